// The kernels, run by the CPU model of include/cuda_emu.h, behind one C entry point so that the Java
// backend can drive them (EmulatedDevice, option dcformer4j.cuda.emulator). kernels.inc lists the
// kernels; run-emu.sh generates it from the extern "C" declarations of the .cu files.
#include "cuda_emu.h"

#include "../../main/cuda/attention.cu"
#include "../../main/cuda/dynamic_weights.cu"
#include "../../main/cuda/elementwise.cu"
#include "../../main/cuda/linear.cu"

#include <cstring>
#include <map>
#include <string>
#include <utility>

namespace {
template <typename T>
T convert_arg(long long v) {
    if constexpr (std::is_pointer_v<T>) {
        return reinterpret_cast<T>(static_cast<intptr_t>(v));
    } else if constexpr (std::is_same_v<T, float>) {
        const int bits = static_cast<int>(v);
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
    } else {
        return static_cast<T>(v);
    }
}

template <typename... P, size_t... I>
void call_with(void (*f)(P...), const long long* a, std::index_sequence<I...>) {
    f(convert_arg<P>(a[I])...);
}

template <typename... P>
std::pair<int, std::function<void(const long long*)>> entry(void (*f)(P...)) {
    return {static_cast<int>(sizeof...(P)), [f](const long long* a) { call_with(f, a, std::index_sequence_for<P...>{}); }};
}

const std::map<std::string, std::pair<int, std::function<void(const long long*)>>>& kernels() {
    static const std::map<std::string, std::pair<int, std::function<void(const long long*)>>> table = {
#define KERNEL(name) {#name, entry(name)},
#include "kernels.inc"
#undef KERNEL
    };
    return table;
}
}  // namespace

// Runs kernel `name` over the grid; args holds one 64-bit slot per parameter (pointers as addresses,
// ints sign-extended, floats as their bit pattern). Returns 0, or -1 for an unknown kernel, -2 for a
// wrong argument count, -3 when the dynamic shared memory exceeds the emulator's buffer.
extern "C" int emu_launch(const char* name, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                          const long long* args, int nargs) {
    auto it = kernels().find(name);
    if (it == kernels().end()) {
        return -1;
    }
    if (it->second.first != nargs) {
        return -2;
    }
    if (sharedBytes > (int) sizeof(float) * (1 << 16)) {
        return -3;
    }
    const auto& fn = it->second.second;
    emu::launch(dim3{(unsigned) gx, (unsigned) gy, (unsigned) gz}, dim3{(unsigned) bx, (unsigned) by, (unsigned) bz},
                [&] { fn(args); });
    return 0;
}
