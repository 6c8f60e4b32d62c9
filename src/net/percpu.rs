// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters: each CPU adds to its own copy, readers sum them.
//!
//! The packet path counts with one `this_cpu_add` (a single instruction on
//! x86, safe against preemption and interrupts), touching no cache line
//! another CPU writes, as the kernel's own per-CPU device statistics do.

use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// `N` 64-bit counters per possible CPU.
///
/// # Invariants
///
/// `base` is a per-CPU allocation of `N` `u64`s, freed only in `drop`.
pub(crate) struct PerCpuCounters<const N: usize> {
    base: NonNull<u64>,
}

// SAFETY: the allocation belongs to no thread; each CPU writes only its own
// copy with `this_cpu_add`, readers use `READ_ONCE`.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: as above: `&self` only adds and reads through per-CPU accessors.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// Allocates the counters, all zero.
    pub(crate) fn new() -> Result<Self> {
        const { assert!(N > 0 && N < 64) };
        // CAST: `N` is below 64 (checked above).
        // SAFETY: allocating has no preconditions.
        let base = unsafe { bindings::fou_rs_alloc_percpu_u64(N as u32) };
        // INVARIANT: a per-CPU allocation of `N` counters.
        NonNull::new(base).map(|base| PerCpuCounters { base }).ok_or(ENOMEM)
    }

    /// Adds `v` to counter `i` on the running CPU; an `i` of `N` or more
    /// counts nothing.
    #[inline]
    pub(crate) fn add(&self, i: usize, v: u64) {
        if i >= N {
            return;
        }
        // On x86-64 SMP kernels, `this_cpu_add` itself, inline: one `add`
        // to the per-CPU address relative to `gs`, which holds the running
        // CPU's per-CPU offset (arch/x86/include/asm/percpu.h). Elsewhere,
        // the C macro through a helper.
        #[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
        // SAFETY: `base` holds `N` counters per CPU (type invariant) and
        // `i < N`, so `base + i` is a per-CPU `u64` and `gs:` addresses this
        // CPU's copy; a single instruction cannot be split by preemption
        // or an interrupt. It touches only that memory and the flags.
        unsafe {
            core::arch::asm!(
                "add qword ptr gs:[{p}], {v}",
                p = in(reg) self.base.as_ptr().wrapping_add(i),
                v = in(reg) v,
                options(nostack),
            )
        };
        #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
        // CAST: `i` is below `N`, below 64.
        // SAFETY: `base` holds `N` counters per CPU (type invariant) and
        // `i < N`.
        unsafe {
            bindings::fou_rs_percpu_add(self.base.as_ptr(), i as u32, v)
        };
    }

    /// Adds one to counter `i` on the running CPU (`this_cpu_inc`: on
    /// x86-64 SMP kernels one `inc`, no register for the one); an `i` of
    /// `N` or more counts nothing.
    #[inline]
    pub(crate) fn inc(&self, i: usize) {
        if i >= N {
            return;
        }
        #[cfg(all(target_arch = "x86_64", CONFIG_SMP))]
        // SAFETY: as in `add`.
        unsafe {
            core::arch::asm!(
                "inc qword ptr gs:[{p}]",
                p = in(reg) self.base.as_ptr().wrapping_add(i),
                options(nostack),
            )
        };
        #[cfg(not(all(target_arch = "x86_64", CONFIG_SMP)))]
        self.add(i, 1);
    }

    /// The counters summed over every possible CPU. Counts added meanwhile
    /// may or may not be included.
    pub(crate) fn sum(&self) -> [u64; N] {
        let mut out = [0u64; N];
        let mut cpu = -1;
        loop {
            // SAFETY: no preconditions.
            cpu = unsafe { bindings::fou_rs_cpu_next_possible(cpu) };
            if cpu < 0 {
                return out;
            }
            for (i, total) in out.iter_mut().enumerate() {
                // CAST: `i` is below `N`, below 64.
                // SAFETY: `cpu` is a possible CPU, `base` holds `N` counters
                // per CPU (type invariant), `i < N`.
                let v = unsafe { bindings::fou_rs_percpu_read(self.base.as_ptr(), cpu, i as u32) };
                *total = total.wrapping_add(v);
            }
        }
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: `base` is our per-CPU allocation (type invariant), not
        // used after this.
        unsafe { bindings::free_percpu(self.base.as_ptr().cast()) };
    }
}
