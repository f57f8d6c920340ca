// Emulator stand-in for the bfloat16 intrinsics the kernels use (round to nearest even, NaN kept).
#pragma once
#include <cstring>
struct __nv_bfloat16 {
    unsigned short bits;
};
inline __nv_bfloat16 __float2bfloat16_rn(float x) {
    unsigned int u;
    std::memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        return __nv_bfloat16{(unsigned short) ((u >> 16) | 0x40)};
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    return __nv_bfloat16{(unsigned short) (u >> 16)};
}
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) {
    return b.bits;
}
