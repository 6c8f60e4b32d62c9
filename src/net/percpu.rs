// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters: each CPU adds to its own copy, readers sum them.
//!
//! The packet path counts with one `this_cpu_add` (a single instruction on
//! x86, safe against preemption and interrupts), touching no cache line
//! another CPU writes, as the kernel's own per-CPU device statistics do.
//!
//! Sets of counters come from a [`CounterPool`]: one per-CPU allocation
//! holds up to 64 sets. An allocation per set costs the per-CPU allocator
//! a search of its chunk's map: some 7,000 instructions per FOU port added
//! among 1,000 ports, 12,500 among 10,000 (measured with `make profile`),
//! for 72 bytes per CPU.

use crate::bindings;
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicU64, Ordering},
};
use kernel::{
    new_mutex, //
    prelude::*,
    sync::{Arc, Mutex},
};

/// The most sets one per-CPU allocation holds (the bits of a `u64`).
const MAX_SLOTS: u32 = 64;

/// One per-CPU allocation of `slots` sets of `N` counters.
///
/// # Invariants
///
/// `base` is a per-CPU allocation of `slots * N` `u64`s, freed only in
/// `drop`; `0 < slots <= MAX_SLOTS`. Bit `s` of `used` is set while set
/// `s` is lent to a [`PerCpuCounters`]; it is set only by its pool, under
/// the pool's lock, and cleared only by the borrower, when it is done.
struct Block<const N: usize> {
    base: NonNull<u64>,
    slots: u32,
    used: AtomicU64,
}

// SAFETY: the allocation belongs to no thread; the sets in it are written
// as `PerCpuCounters` says, `used` is atomic.
unsafe impl<const N: usize> Send for Block<N> {}
// SAFETY: as above.
unsafe impl<const N: usize> Sync for Block<N> {}

impl<const N: usize> Block<N> {
    /// Allocates `slots` sets (at most `MAX_SLOTS`), all zero, none lent.
    fn new(slots: u32) -> Result<Self> {
        const { assert!(N > 0 && N < 64) };
        let slots = slots.clamp(1, MAX_SLOTS);
        // CAST: `N` is below 64 (checked above), `slots` at most 64.
        // SAFETY: allocating has no preconditions.
        let base = unsafe { bindings::fou_rs_alloc_percpu_u64(slots * N as u32) };
        // INVARIANT: a per-CPU allocation of `slots * N` counters, none
        // lent.
        NonNull::new(base)
            .map(|base| Block {
                base,
                slots,
                used: AtomicU64::new(0),
            })
            .ok_or(ENOMEM)
    }

    /// The first set not lent, if any.
    fn free_slot(&self) -> Option<u32> {
        let all = u64::MAX >> (64 - self.slots);
        let free = !self.used.load(Ordering::Acquire) & all;
        (free != 0).then(|| free.trailing_zeros())
    }

    /// Lends set `slot` (not lent: see [`Block::free_slot`]), zeroed on
    /// every CPU. Called by its pool under the pool's lock.
    fn lend(self: &Arc<Self>, slot: u32) -> PerCpuCounters<N> {
        // CAST: `slot` is below `slots`, `N` below 64.
        let off = slot as usize * N;
        // `slot < slots`: `off + N` counters lie in the allocation.
        let base = self.base.as_ptr().wrapping_add(off);
        let mut cpu = -1;
        loop {
            // SAFETY: no preconditions.
            cpu = unsafe { bindings::fou_rs_cpu_next_possible(cpu) };
            if cpu < 0 {
                break;
            }
            // SAFETY: `cpu` is a possible CPU and `base` the start of `N`
            // per-CPU counters in our allocation (type invariant), which
            // nobody writes: the set is not lent, and its last borrower
            // stopped counting before giving it back (`Acquire` in
            // `free_slot` orders this after that).
            // CAST: `N` is below 64.
            unsafe { bindings::fou_rs_percpu_zero(base, cpu, N as u32) };
        }
        self.used.fetch_or(1 << slot, Ordering::Relaxed);
        // INVARIANT: set `slot`, just marked as lent to this borrower.
        PerCpuCounters {
            // SAFETY: `base` is inside the allocation at `self.base`,
            // which is not NULL.
            base: unsafe { NonNull::new_unchecked(base) },
            block: self.clone(),
            slot,
        }
    }
}

impl<const N: usize> Drop for Block<N> {
    fn drop(&mut self) {
        // SAFETY: `base` is our per-CPU allocation (type invariant); no set
        // of it is lent (each borrower holds a reference to the block).
        unsafe { bindings::free_percpu(self.base.as_ptr().cast()) };
    }
}

/// Where sets of `N` per-CPU counters come from: per-CPU allocations of 4,
/// 8, 16, 32, then 64 sets each, a set lent until its borrower drops it and
/// zeroed when lent again. An allocation stays until the pool and its last
/// borrower are gone (at most the most sets lent at once, rounded up to
/// whole allocations).
#[pin_data]
pub(crate) struct CounterPool<const N: usize> {
    #[pin]
    blocks: Mutex<KVec<Arc<Block<N>>>>,
}

impl<const N: usize> CounterPool<N> {
    /// An empty pool.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(CounterPool {
            blocks <- new_mutex!(KVec::new(), "fou_rs_counters"),
        })
    }

    /// A set of `N` counters, all zero.
    pub(crate) fn take(&self) -> Result<PerCpuCounters<N>> {
        let mut blocks = self.blocks.lock();
        for b in blocks.iter() {
            if let Some(slot) = b.free_slot() {
                return Ok(b.lend(slot));
            }
        }
        // CAST: `len` is the number of blocks, shifted at most 4.
        let slots = (4u32 << blocks.len().min(4)).min(MAX_SLOTS);
        let block = Arc::new(Block::new(slots)?, GFP_KERNEL)?;
        blocks.push(block.clone(), GFP_KERNEL)?;
        Ok(block.lend(0))
    }
}

/// `N` 64-bit counters per possible CPU, lent by a [`CounterPool`].
///
/// # Invariants
///
/// `base` is the start of set `slot` of `block`, lent to this value: `N`
/// `u64`s per CPU of a per-CPU allocation that lives as long as `block`.
pub(crate) struct PerCpuCounters<const N: usize> {
    base: NonNull<u64>,
    block: Arc<Block<N>>,
    slot: u32,
}

// SAFETY: the allocation belongs to no thread; each CPU writes only its own
// copy with `this_cpu_add`, readers use `READ_ONCE`.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: as above: `&self` only adds and reads through per-CPU accessors.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
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
    /// Gives the set back to its pool (the block itself goes with the last
    /// reference to it). The owner has stopped counting: a port's counters
    /// go after an RCU grace period that follows the last packet.
    fn drop(&mut self) {
        self.block.used.fetch_and(!(1 << self.slot), Ordering::Release);
    }
}

#[kunit_tests(fou_rs_percpu)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_apart_and_zero_when_lent_again() -> Result {
        let pool = KBox::pin_init(CounterPool::<3>::new(), GFP_KERNEL)?;
        // More sets than the first allocation holds (4).
        let mut sets = KVec::new();
        for _ in 0..6 {
            sets.push(pool.take()?, GFP_KERNEL)?;
        }
        for (k, s) in sets.iter().enumerate() {
            // CAST: fewer than 6 sets.
            s.add(2, k as u64 + 1);
            s.inc(0);
        }
        for (k, s) in sets.iter().enumerate() {
            assert_eq!(s.sum(), [1, 0, k as u64 + 1]);
        }
        // The second set back, and taken again: the same place, zeroed.
        let second = sets.remove(1).map_err(|_| EINVAL)?;
        let place = second.base;
        drop(second);
        let again = pool.take()?;
        assert!(again.base == place);
        assert_eq!(again.sum(), [0, 0, 0]);
        assert_eq!(pool.blocks.lock().len(), 2);
        Ok(())
    }
}
