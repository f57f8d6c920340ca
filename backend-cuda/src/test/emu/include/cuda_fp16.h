// Emulator stand-in for the half-precision intrinsics the kernels use (round to nearest even).
#pragma once
#include <cstring>
struct __half {
    unsigned short bits;
};
inline __half __ushort_as_half(unsigned short b) {
    return __half{b};
}
inline unsigned short __half_as_ushort(__half h) {
    return h.bits;
}
inline float __half2float(__half h) {
    _Float16 f;
    std::memcpy(&f, &h.bits, 2);
    return (float) f;
}
inline __half __float2half_rn(float x) {
    _Float16 f = (_Float16) x;
    __half h;
    std::memcpy(&h.bits, &f, 2);
    return h;
}
