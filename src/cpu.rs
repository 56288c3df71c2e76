//! What the CPU can do, for the hot loops that have an AVX2 copy (dga's rows, LCMCR's bulk
//! counting). The copies compute the same integers or the same floating-point operations in
//! the same order, so results do not depend on the machine.

/// Whether the CPU runs the AVX2 copies of the hot loops.
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}
