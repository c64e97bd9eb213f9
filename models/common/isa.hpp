// Run-time choice of the instruction set for the hot kernels (one release binary runs on
// any x86-64: each kernel is compiled for the build's baseline and for AVX2+FMA and/or
// AVX-512, and the best the CPU has is used).
//
// A kernel family names an environment variable (e.g. MEMPLAST_META_ISA); it, or when it
// is unset MEMPLAST_ISA, may force a path: generic (the build's baseline, the path the
// refactor checks and golden references use), avx2, avx512 or auto (the default: the
// best the CPU supports). Any other value, or a path the CPU lacks, is an error.
#pragma once

namespace memplast {

enum class Isa { generic = 0, avx2 = 1, avx512 = 2 };

const char* isa_name(Isa isa);
// generic: always; avx2: AVX2, FMA, BMI1/2, LZCNT; avx512: that plus AVX-512 F/DQ/CD/BW/VL
// (false for everything but generic off x86-64 or without GCC/Clang builtins).
bool cpu_supports(Isa isa);
// The best path the CPU supports.
Isa best_isa();
// The path a kernel family runs (see above); throws std::runtime_error naming the
// variable and its value when the value is unknown or the CPU lacks that path.
Isa select_isa(const char* env_var);

}  // namespace memplast
