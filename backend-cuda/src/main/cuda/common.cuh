// Shared device helpers: storage-type codes, widening loads, warp reductions.
// Type codes match io.dcformer4j.backend.cuda.launch.TypeCode (0 F32, 1 BF16, 2 F16).
#pragma once
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// Declares a kernel's dynamic shared memory (its size is given at launch). A macro so that the CPU
// emulator of src/test/emu can map it onto host memory.
#ifndef DYNAMIC_SHARED
#define DYNAMIC_SHARED(type, name) extern __shared__ __align__(16) type name[]
#endif

#define DT_F32 0
#define DT_BF16 1
#define DT_F16 2

__device__ __forceinline__ float bf16_bits_to_float(unsigned short b) {
    return __uint_as_float(((unsigned int) b) << 16);
}

__device__ __forceinline__ float f16_bits_to_float(unsigned short b) {
    return __half2float(__ushort_as_half(b));
}

// Element i of a parameter tensor of any float storage type, widened to F32.
__device__ __forceinline__ float load_typed(const void* p, long long i, int dtype) {
    if (dtype == DT_BF16) {
        return bf16_bits_to_float(((const unsigned short*) p)[i]);
    }
    if (dtype == DT_F16) {
        return f16_bits_to_float(((const unsigned short*) p)[i]);
    }
    return ((const float*) p)[i];
}

// Stores v rounded to nearest even into element i of a tensor of any float storage type.
__device__ __forceinline__ void store_typed(void* p, long long i, int dtype, float v) {
    if (dtype == DT_BF16) {
        ((unsigned short*) p)[i] = __bfloat16_as_ushort(__float2bfloat16_rn(v));
    } else if (dtype == DT_F16) {
        ((unsigned short*) p)[i] = __half_as_ushort(__float2half_rn(v));
    } else {
        ((float*) p)[i] = v;
    }
}

__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

// Exact GELU, z * 1/2 * (1 + erf(z / sqrt 2)).
__device__ __forceinline__ float gelu_exact(float z) {
    return 0.5f * z * (1.0f + erff(z * 0.70710678118654752440f));
}
