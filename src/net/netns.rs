// SPDX-License-Identifier: GPL-2.0

//! Network namespaces, and state kept per namespace (pernet operations).
//!
//! Mirrors the `register_pernet_device` use of net/ipv4/fou_core.c: the
//! kernel allocates `size_of::<T>()` bytes in every namespace, this module
//! pin-initializes a `T` there when the namespace (or the registration) is
//! born and drops it when the namespace exits.

use crate::bindings;
use core::{
    marker::PhantomData, //
    mem::size_of,
    ops::Deref,
    ptr::NonNull,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};
use kernel::{
    error::to_result, //
    prelude::*,
    time::{delay::fsleep, Delta},
    types::Opaque,
};

/// A network namespace, borrowed for `'a`.
///
/// # Invariants
///
/// `ptr` points to a `struct net` that stays alive for `'a`.
pub(crate) struct Net<'a> {
    ptr: NonNull<bindings::net>,
    _p: PhantomData<&'a bindings::net>,
}

impl<'a> Net<'a> {
    /// Wraps a namespace pointer the kernel handed over.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a `struct net` that stays alive for `'a`.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::net) -> Option<Self> {
        // INVARIANT: the caller guarantees the namespace outlives `'a`.
        NonNull::new(ptr).map(|ptr| Net {
            ptr,
            _p: PhantomData,
        })
    }

    /// Returns the raw `struct net` pointer, for the FFI layer.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.ptr.as_ptr()
    }

    /// Returns this namespace's instance of the per-namespace state `T`,
    /// borrowed until the returned value is dropped: `T`'s unregistration
    /// waits for that.
    ///
    /// Fails with `ENODEV` when `T` is not registered (before registration
    /// or once its unregistration began).
    pub(crate) fn state<T: PernetState>(&self) -> Result<StateRef<'a, T>> {
        let id = T::id();
        // Counted before the test: either the unregistration sees this
        // borrow and waits for it, or this sees it begun (both sequentially
        // consistent).
        id.users.fetch_add(1, Ordering::SeqCst);
        if !id.registered.load(Ordering::SeqCst) {
            id.users.fetch_sub(1, Ordering::SeqCst);
            return Err(ENODEV);
        }
        // SAFETY: `T` is registered, so `id.id` holds the id the kernel
        // assigned, and `self.ptr` is a live namespace (type invariant).
        let p = unsafe { bindings::net_generic(self.ptr.as_ptr(), *id.id.get()) }.cast::<T>();
        // SAFETY: the pernet `init` of a registered `T` initialized a `T` at
        // `p` in every live namespace; it is dropped only in `exit`, when the
        // namespace dies or `T` is unregistered. Neither happens while the
        // borrow lives: the namespace outlives `'a`, and the unregistration
        // waits until no borrow counted in `users` is left. The memory is
        // never moved.
        let state = unsafe { Pin::new_unchecked(&*p) };
        // INVARIANT: counted in `users` above.
        Ok(StateRef { state })
    }
}

/// A namespace's per-namespace state `T`, borrowed from [`Net::state`].
///
/// # Invariants
///
/// The borrow is counted in `T::id().users` until this is dropped.
pub(crate) struct StateRef<'a, T: PernetState> {
    state: Pin<&'a T>,
}

impl<T: PernetState> Deref for StateRef<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.state
    }
}

impl<T: PernetState> Drop for StateRef<'_, T> {
    fn drop(&mut self) {
        // Counted in `Net::state` (type invariant).
        T::id().users.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The id the kernel assigns to a pernet registration, kept in a `static`
/// of the state type.
pub(crate) struct PernetId {
    /// Written by `register_pernet_device`, read by `net_generic`.
    id: Opaque<c_uint>,
    /// Whether the registration is live.
    registered: AtomicBool,
    /// The borrows of the state alive now ([`StateRef`]).
    users: AtomicUsize,
}

// SAFETY: `id` is written only by `register_pernet_device` before
// `registered` is set (with release ordering), and read only after it is
// seen set (acquire); all other access is atomic.
unsafe impl Sync for PernetId {}

impl PernetId {
    /// Creates an unregistered id.
    pub(crate) const fn new() -> Self {
        PernetId {
            id: Opaque::zeroed(),
            registered: AtomicBool::new(false),
            users: AtomicUsize::new(0),
        }
    }
}

/// State kept in every network namespace.
pub(crate) trait PernetState: Sized + Send + Sync + 'static {
    /// The `static` that holds this type's pernet id.
    fn id() -> &'static PernetId;

    /// Initializes the state of a new namespace.
    fn new() -> impl PinInit<Self, Error>;
}

/// A registration of per-namespace state `T`; unregisters when dropped.
///
/// # Invariants
///
/// `ops` is registered with `register_pernet_device` for the lifetime of
/// the registration.
#[pin_data(PinnedDrop)]
pub(crate) struct PernetRegistration<T: PernetState> {
    #[pin]
    ops: Opaque<bindings::pernet_operations>,
    _t: PhantomData<T>,
}

// SAFETY: registration and unregistration may happen on any thread.
unsafe impl<T: PernetState> Send for PernetRegistration<T> {}
// SAFETY: `&self` gives no access to `ops`.
unsafe impl<T: PernetState> Sync for PernetRegistration<T> {}

impl<T: PernetState> PernetRegistration<T> {
    /// Registers `T`: creates its state in every existing namespace now,
    /// and in every new one later.
    pub(crate) fn register() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            ops <- Opaque::try_ffi_init(|slot: *mut bindings::pernet_operations| {
                let ops = bindings::pernet_operations {
                    init: Some(pernet_init::<T>),
                    exit: Some(pernet_exit::<T>),
                    id: T::id().id.get(),
                    size: size_of::<T>(),
                    ..Default::default()
                };
                // SAFETY: `slot` is valid for writes; it is pinned, and
                // `PinnedDrop` unregisters it before the memory goes away.
                unsafe { slot.write(ops) };
                // SAFETY: `slot` holds a fully initialized pernet_operations.
                to_result(unsafe { bindings::register_pernet_device(slot) })?;
                // INVARIANT: registered just now.
                T::id().registered.store(true, Ordering::Release);
                Ok::<(), Error>(())
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T: PernetState> PinnedDrop for PernetRegistration<T> {
    fn drop(self: Pin<&mut Self>) {
        let id = T::id();
        id.registered.store(false, Ordering::SeqCst);
        // No state is dropped while borrowed: a borrow taken before the
        // store is waited for, none is taken after it. (The module tears
        // down what borrows the state before this, so there is none to
        // wait for; this makes that order a matter of speed, not of
        // soundness.)
        while id.users.load(Ordering::SeqCst) != 0 {
            fsleep(Delta::from_millis(1));
        }
        // SAFETY: `ops` is registered (type invariant); this runs its exit
        // in every namespace, dropping every `T`, none of them borrowed.
        unsafe { bindings::unregister_pernet_device(self.ops.get()) };
    }
}

/// Returns where `T` lives in `net`.
///
/// # Safety
///
/// `net` is a live namespace and `T` is being registered or is registered.
unsafe fn state_ptr<T: PernetState>(net: *mut bindings::net) -> *mut T {
    // SAFETY: `register_pernet_device` wrote the id before calling any init;
    // `net` is live (caller).
    unsafe { bindings::net_generic(net, *T::id().id.get()) }.cast::<T>()
}

/// Pin-initializes `slot` with `init`, through whichever entry point the
/// kernel's pin-init offers (`raw_try_init` since 7.3, the trait method
/// `__pinned_init` before).
///
/// # Safety
///
/// `slot` is valid, uninitialized memory for a `T` that does not move until
/// it is dropped; on error the caller leaves it untouched.
unsafe fn pinned_init<T>(init: impl PinInit<T, Error>, slot: *mut T) -> Result {
    #[cfg(fou_pin_init_raw_try_init)]
    // SAFETY: the caller's guarantees are `raw_try_init`'s requirements.
    let r = unsafe { pin_init::raw_try_init(slot, init) };
    #[cfg(not(fou_pin_init_raw_try_init))]
    // SAFETY: the caller's guarantees are `__pinned_init`'s requirements.
    let r = unsafe { init.__pinned_init(slot) };
    r
}

/// The pernet `init` callback: pin-initializes `T` in the namespace.
///
/// # Safety
///
/// `net` is a namespace being set up, whose pernet area for `T`'s id
/// (registered by [`PernetRegistration`]) is allocated, zeroed and not
/// yet initialized, as the pernet core calls `init`.
unsafe extern "C" fn pernet_init<T: PernetState>(net: *mut bindings::net) -> c_int {
    // SAFETY: the kernel calls `init` with a live namespace whose generic
    // area has `size_of::<T>()` zeroed bytes for this id, suitably aligned
    // (kzalloc), and never moves them.
    let p = unsafe { state_ptr::<T>(net) };
    // SAFETY: `p` is valid, uninitialized memory for a `T` (see above); on
    // error nothing is left to drop.
    match unsafe { pinned_init(T::new(), p) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The pernet `exit` callback: drops the namespace's `T`.
///
/// # Safety
///
/// `net` is a namespace whose `T` was initialized by [`pernet_init`] and
/// is not used after this, as the pernet core calls `exit`.
unsafe extern "C" fn pernet_exit<T: PernetState>(net: *mut bindings::net) {
    // SAFETY: the kernel calls `exit` once per successful `init`, with the
    // same live namespace.
    let p = unsafe { state_ptr::<T>(net) };
    // SAFETY: `pernet_init` initialized a `T` at `p`; nothing uses it after
    // `exit` (the registration is gone or the namespace is dying).
    unsafe { core::ptr::drop_in_place(p) };
}

/// Calls `f` on every network namespace alive, under `net_rwsem`: none is
/// added or removed meanwhile (a namespace leaves the list before its
/// pernet exits run), so each one's pernet state stays initialized during
/// its call. `f` may sleep, and must not create or destroy namespaces.
pub(crate) fn for_each_net(mut f: impl FnMut(&Net<'_>)) {
    // SAFETY: `net_rwsem` is the kernel's lock of the namespace list.
    unsafe { bindings::down_read(&raw mut bindings::net_rwsem) };
    let mut p = core::ptr::null_mut();
    loop {
        // SAFETY: `net_rwsem` is held; `p` is NULL or on the list.
        p = unsafe { bindings::fou_rs_net_next(p) };
        // SAFETY: a namespace on the list stays there, alive, while
        // `net_rwsem` is held, which it is until after the call.
        let Some(net) = (unsafe { Net::from_raw(p) }) else {
            break;
        };
        f(&net);
    }
    // SAFETY: taken above.
    unsafe { bindings::up_read(&raw mut bindings::net_rwsem) };
}
