// SPDX-License-Identifier: GPL-2.0

//! Generic netlink families served by safe Rust handlers.
//!
//! The family, its small ops and its attribute policy are Rust values;
//! `unsafe extern "C"` trampolines turn each request into a [`Request`] or a
//! [`Dump`] and call the family's safe handlers (as the C module's
//! net/ipv4/fou_nl.c table calls fou_core.c).

use crate::bindings;
use crate::net::errno::check;
use crate::net::netns::Net;
use core::{
    ffi::c_void, //
    marker::PhantomData,
    mem::size_of,
};
use kernel::{
    error::to_result, //
    prelude::*,
    str::CStr,
    types::Opaque,
    ThisModule,
};

/// One entry of an attribute policy (`struct nla_policy`).
#[repr(transparent)]
pub(crate) struct Policy(bindings::nla_policy);

// SAFETY: a policy is immutable, and its pointers (none are used here) would
// point to static data.
unsafe impl Sync for Policy {}

impl Policy {
    /// Makes a policy entry of netlink type `ty`.
    const fn of(ty: u32) -> Self {
        // CAST: netlink attribute types (`NLA_*`) are below 256: `type` is a u8.
        let mut p = Policy(bindings::nla_policy {
            type_: ty as u8,
            validation_type: 0,
            len: 0,
            __bindgen_anon_1: bindings::nla_policy__bindgen_ty_1 {
                strict_start_type: 0,
            },
        });
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_NONE as u8;
        p
    }

    /// No attribute here: index 0 of every policy.
    pub(crate) const fn unspec() -> Self {
        Policy::of(bindings::NLA_UNSPEC)
    }

    /// An 8-bit integer.
    pub(crate) const fn u8() -> Self {
        Policy::of(bindings::NLA_U8)
    }

    /// A 32-bit integer.
    pub(crate) const fn u32() -> Self {
        Policy::of(bindings::NLA_U32)
    }

    /// A signed 32-bit integer.
    pub(crate) const fn s32() -> Self {
        Policy::of(bindings::NLA_S32)
    }

    /// A big-endian 16-bit integer.
    pub(crate) const fn be16() -> Self {
        Policy::of(bindings::NLA_BE16)
    }

    /// A flag: present or absent, no payload.
    pub(crate) const fn flag() -> Self {
        Policy::of(bindings::NLA_FLAG)
    }

    /// Nested attributes (`NLA_NESTED`), possibly none.
    pub(crate) const fn nested() -> Self {
        Policy::of(bindings::NLA_NESTED)
    }

    /// Bytes of exactly `len` (`NLA_POLICY_EXACT_LEN(len)`).
    pub(crate) const fn exact_len(len: i16) -> Self {
        let mut p = Policy::of(bindings::NLA_BINARY);
        // CAST: the `NLA_VALIDATE_*` values are below 256.
        p.0.validation_type = bindings::nla_policy_validation_NLA_VALIDATE_RANGE as u8;
        p.0.__bindgen_anon_1 = bindings::nla_policy__bindgen_ty_1 {
            __bindgen_anon_1: bindings::nla_policy__bindgen_ty_1__bindgen_ty_1 { min: len, max: len },
        };
        p
    }
}

/// One command of a family: its number, who may send it and its handlers
/// (`#[vtable]`: a command implements `doit`, `dumpit` or both), in the
/// style of `rust/kernel/net/phy.rs`'s drivers.
#[vtable]
pub(crate) trait Command: 'static {
    /// The command number.
    const CMD: u8;
    /// Whether the sender needs CAP_NET_ADMIN in the request's namespace
    /// (`GENL_ADMIN_PERM`).
    const ADMIN: bool = false;

    /// Handles a request (the command's `doit`).
    fn doit(_req: &Request<'_>) -> Result {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }

    /// Fills one part of a dump; called until it adds nothing.
    fn dumpit(_dump: &mut Dump<'_>) -> Result {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// One command of a family (`struct genl_small_ops`).
#[repr(transparent)]
pub(crate) struct Op(bindings::genl_small_ops);

impl Op {
    /// Command `C`. Attributes are validated liberally, as the C family
    /// does for its commands (old iproute2 sent AF as 16 bits).
    pub(crate) const fn new<C: Command>() -> Self {
        // CAST: `GENL_*` flag values are below 256.
        let flags = if C::ADMIN { bindings::GENL_ADMIN_PERM as u8 } else { 0 };
        // CAST: as above. A dump's request is not validated, as the C
        // family's is not: a dump lists every port whatever the request
        // carries (`Dump::attrs` reads what it needs).
        let validate = (bindings::genl_validate_flags_GENL_DONT_VALIDATE_STRICT
            | bindings::genl_validate_flags_GENL_DONT_VALIDATE_DUMP) as u8;
        Op(bindings::genl_small_ops {
            doit: if C::HAS_DOIT { Some(doit_trampoline::<C>) } else { None },
            dumpit: if C::HAS_DUMPIT { Some(dumpit_trampoline::<C>) } else { None },
            cmd: C::CMD,
            internal_flags: 0,
            flags,
            validate,
        })
    }
}

/// A multicast group of a family (`struct genl_multicast_group`).
#[repr(transparent)]
pub(crate) struct McGroup(bindings::genl_multicast_group);

// SAFETY: a group description is immutable plain data.
unsafe impl Sync for McGroup {}

impl McGroup {
    /// The group `name` (at most 15 bytes; a longer name is cut), open to
    /// any listener, as the kernel's own families' notification groups.
    pub(crate) const fn new(name: &CStr) -> Self {
        let mut g = bindings::genl_multicast_group {
            name: [0; 16],
            flags: 0,
        };
        let b = name.to_bytes();
        let mut i = 0;
        while i < b.len() && i < 15 {
            // CAST: bytes of a C string, reinterpreted as `c_char`.
            g.name[i] = b[i] as c_char;
            i += 1;
        }
        McGroup(g)
    }
}

/// A generic netlink family: its identity, policy, commands and handlers.
pub(crate) trait Family: Sized + 'static {
    /// The family name, at most 15 bytes.
    const NAME: &'static CStr;
    /// The family version.
    const VERSION: u32;
    /// The attribute policy; index `n` is attribute `n`.
    const POLICY: &'static [Policy];
    /// The commands.
    const OPS: &'static [Op];
    /// The first command whose attributes are validated strictly.
    const RESV_START_OP: u8;
    /// The multicast groups; index `n` is group `n` of [`Request::notify`].
    const MCGRPS: &'static [McGroup] = &[];
}

/// A registered family; unregisters when dropped.
///
/// # Invariants
///
/// `family` is registered with `genl_register_family` for the lifetime of
/// the registration.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<F: Family> {
    #[pin]
    family: Opaque<bindings::genl_family>,
    _f: PhantomData<F>,
}

// SAFETY: registration and unregistration may happen on any thread.
unsafe impl<F: Family> Send for Registration<F> {}
// SAFETY: `&self` gives no access to `family`.
unsafe impl<F: Family> Sync for Registration<F> {}

impl<F: Family> Registration<F> {
    /// Registers family `F`, owned by `module`.
    ///
    /// Fails with `EEXIST`, and says who to blame, when a family of that
    /// name exists (the C `fou.ko` is loaded).
    pub(crate) fn register(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        // A request's attributes are kept in `Attrs`, a slot per number.
        const { assert!(F::POLICY.len() <= ATTR_SLOTS) };
        try_pin_init!(Self {
            family <- Opaque::try_ffi_init(move |slot: *mut bindings::genl_family| {
                let mut fam = bindings::genl_family {
                    version: F::VERSION,
                    // CAST: a policy has at most a few dozen entries.
                    maxattr: (F::POLICY.len() - 1) as u32,
                    policy: F::POLICY.as_ptr().cast::<bindings::nla_policy>(),
                    module: module.as_ptr().cast::<bindings::module>(),
                    small_ops: F::OPS.as_ptr().cast::<bindings::genl_small_ops>(),
                    // CAST: a family has a handful of commands.
                    n_small_ops: F::OPS.len() as u8,
                    resv_start_op: F::RESV_START_OP,
                    mcgrps: F::MCGRPS.as_ptr().cast::<bindings::genl_multicast_group>(),
                    // CAST: a family has a handful of groups.
                    n_mcgrps: F::MCGRPS.len() as u8,
                    ..Default::default()
                };
                fam.set_netnsok(1);
                let name = F::NAME.to_bytes_with_nul();
                if name.len() > fam.name.len() {
                    return Err(EINVAL);
                }
                for (d, s) in fam.name.iter_mut().zip(name) {
                    // CAST: bytes of a C string, reinterpreted as `c_char`.
                    *d = *s as c_char;
                }
                // SAFETY: `slot` is valid for writes, pinned, and
                // unregistered in `PinnedDrop` before it goes away.
                unsafe { slot.write(fam) };
                // SAFETY: `slot` holds a complete family whose policy and
                // ops are `'static`.
                let ret = unsafe { bindings::genl_register_family(slot) };
                if ret == EEXIST.to_errno() {
                    pr_err!(
                        "the generic netlink family '{}' is already registered by another module (the C fou.ko?); unload it first\n",
                        F::NAME
                    );
                }
                // INVARIANT: registered when this returns `Ok`.
                to_result(ret)
            }),
            _f: PhantomData,
        })
    }
}

impl<F: Family> Registration<F> {
    /// Sends a message of command `cmd`, filled by `fill`, to the listeners
    /// of group `group` in `net` (`genlmsg_multicast_netns`).
    pub(crate) fn notify(
        &self,
        net: &Net<'_>,
        group: u32,
        cmd: u8,
        fill: impl FnOnce(&mut Message<'_>) -> Result,
    ) -> Result {
        // SAFETY: `family` is registered (type invariant), `net` is alive.
        unsafe { multicast(self.family.get(), net, group, cmd, fill) }
    }
}

/// Sends a message of command `cmd`, filled by `fill`, to the listeners of
/// group `group` of `family` in `net`; nothing when there are none.
/// `EINVAL` when `group` is not one of the family's, `ENOMEM` when the
/// message cannot be allocated.
///
/// # Safety
///
/// `family` is registered.
unsafe fn multicast(
    family: *const bindings::genl_family,
    net: &Net<'_>,
    group: u32,
    cmd: u8,
    fill: impl FnOnce(&mut Message<'_>) -> Result,
) -> Result {
    // SAFETY: `family` is registered (guaranteed by the caller).
    if group >= u32::from(unsafe { (*family).n_mcgrps }) {
        return Err(EINVAL);
    }
    // SAFETY: `family` is registered, `net` alive, `group` one of the
    // family's groups.
    if unsafe { bindings::genl_has_listeners(family, net.as_ptr(), group) } == 0 {
        return Ok(());
    }
    // SAFETY: allocating a message has no preconditions.
    let skb = unsafe { bindings::fou_rs_genlmsg_new_default() };
    if skb.is_null() {
        return Err(ENOMEM);
    }
    // SAFETY: `skb` is ours; the family is registered.
    let r = unsafe { Message::begin(skb, 0, 0, family, 0, cmd) }.and_then(|mut m| {
        fill(&mut m)?;
        m.end();
        Ok(())
    });
    if let Err(e) = r {
        // SAFETY: `skb` is ours and not handed on.
        unsafe { bindings::nlmsg_free(skb) };
        return Err(e);
    }
    // SAFETY: `skb` is a complete message, consumed whatever this returns;
    // the family is registered and `group` is one of its groups. No
    // listener left since the check is `ESRCH`, which is no error here.
    let ret = unsafe {
        bindings::genlmsg_multicast_netns(family, net.as_ptr(), skb, 0, group, kernel::bindings::GFP_KERNEL)
    };
    match to_result(ret) {
        Err(e) if e == ESRCH => Ok(()),
        r => r,
    }
}

/// The most attribute numbers a family may have, plus one: [`Attrs`] keeps
/// a slot for each.
const ATTR_SLOTS: usize = 32;

/// The payloads of the attributes present in one request of a family
/// whose attributes are `A` (an enum of attribute numbers).
pub(crate) struct Attrs<'a, A> {
    /// Index `n` holds attribute number `n`; index 0 is unused.
    slots: [Option<&'a [u8]>; ATTR_SLOTS],
    _a: PhantomData<fn(A)>,
}

impl<A> Default for Attrs<'_, A> {
    fn default() -> Self {
        Attrs {
            slots: [None; ATTR_SLOTS],
            _a: PhantomData,
        }
    }
}

impl<'a, A: Into<u16>> Attrs<'a, A> {
    /// Records `payload` as attribute number `n`; a number beyond the
    /// slots is ignored.
    fn set_number(&mut self, n: u16, payload: &'a [u8]) {
        if let Some(slot) = self.slots.get_mut(usize::from(n)) {
            *slot = Some(payload);
        }
    }

    /// Records the payload of attribute `attr` (KUnit cases build requests
    /// with it).
    #[cfg(CONFIG_KUNIT = "y")]
    pub(crate) fn set(&mut self, attr: A, payload: &'a [u8]) {
        self.set_number(attr.into(), payload);
    }

    /// Returns the payload of attribute `attr`, if the request carried it.
    pub(crate) fn get(&self, attr: A) -> Option<&'a [u8]> {
        self.slots.get(usize::from(attr.into())).copied().flatten()
    }

    /// Returns the first `N` bytes of attribute `attr`, if present.
    ///
    /// A payload longer than `N` is accepted, as `nla_get_*` accepts it under
    /// liberal validation (old iproute2 sends `fou`'s AF as 16 bits); a
    /// shorter one is `EINVAL`.
    pub(crate) fn bytes<const N: usize>(&self, attr: A) -> Result<Option<[u8; N]>> {
        match self.get(attr) {
            None => Ok(None),
            Some(p) => match p.get(..N) {
                Some(b) => {
                    let mut out = [0u8; N];
                    out.copy_from_slice(b);
                    Ok(Some(out))
                }
                None => Err(EINVAL),
            },
        }
    }

    /// Returns attribute `attr` as a `u8`.
    pub(crate) fn u8(&self, attr: A) -> Result<Option<u8>> {
        Ok(self.bytes::<1>(attr)?.map(|[b]| b))
    }

    /// Returns attribute `attr` as a big-endian `u16`, in host order.
    pub(crate) fn be16(&self, attr: A) -> Result<Option<u16>> {
        Ok(self.bytes::<2>(attr)?.map(u16::from_be_bytes))
    }

    /// Returns attribute `attr` as a native-endian `i32`.
    pub(crate) fn s32(&self, attr: A) -> Result<Option<i32>> {
        Ok(self.bytes::<4>(attr)?.map(i32::from_ne_bytes))
    }
}

/// The headers of a generic netlink message: `NLMSG_HDRLEN + GENL_HDRLEN`.
const HDRLEN: usize = 16 + 4;

/// The attributes of generic netlink message `msg` (header included), as
/// `nla_parse` finds them without a policy: the last of each type wins;
/// nesting and byte-order flags are ignored; a truncated attribute ends
/// the walk. Each payload is a slice of `msg`.
fn attrs_from_message<A: Into<u16>>(msg: &[u8], maxattr: u16) -> Attrs<'_, A> {
    let mut attrs = Attrs::default();
    let mut rest = msg.get(HDRLEN..).unwrap_or(&[]);
    while let [l0, l1, t0, t1, ..] = *rest {
        let len = usize::from(u16::from_ne_bytes([l0, l1]));
        let Some(payload) = rest.get(4..len) else {
            break;
        };
        // CAST: the mask keeps the low 14 bits.
        let ty = u16::from_ne_bytes([t0, t1]) & (bindings::NLA_TYPE_MASK as u16);
        if (1..=maxattr).contains(&ty) {
            attrs.set_number(ty, payload);
        }
        rest = rest.get((len + 3) & !3..).unwrap_or(&[]);
    }
    attrs
}

/// The attributes of a request, from the table generic netlink parsed it
/// into.
///
/// # Safety
///
/// `table` is NULL or a parsed attribute table of `maxattr + 1` entries
/// whose attributes live for `'a`.
unsafe fn attrs_from_table<'a, A: Into<u16>>(table: *mut *mut bindings::nlattr, maxattr: u32) -> Attrs<'a, A> {
    let mut attrs = Attrs::default();
    if table.is_null() {
        return attrs;
    }
    // CAST: at most `ATTR_SLOTS`, checked at registration.
    for n in 1..=maxattr.min(ATTR_SLOTS as u32 - 1) as u16 {
        // SAFETY: the table has `maxattr + 1` entries (guaranteed by the
        // caller), and `n` is at most `maxattr`.
        let nla = unsafe { *table.add(usize::from(n)) };
        if nla.is_null() {
            continue;
        }
        // SAFETY: `nla` is a parsed attribute inside the request, which
        // lives for `'a`; its payload is `nla_len` bytes at `nla_data`.
        let payload = unsafe {
            core::slice::from_raw_parts(
                bindings::nla_data(nla).cast::<u8>(),
                usize::from(bindings::nla_len(nla)),
            )
        };
        attrs.set_number(n, payload);
    }
    attrs
}

#[pinned_drop]
impl<F: Family> PinnedDrop for Registration<F> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: `family` is registered (type invariant). Unregistering
        // waits for running handlers.
        unsafe { bindings::genl_unregister_family(self.family.get()) };
    }
}

/// Converts a handler result to the C convention.
fn errno(r: Result) -> c_int {
    match r {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The C `doit` of command `C`.
///
/// # Safety
///
/// `info` is the request generic netlink passes to the `doit` of an op
/// made by [`Op::new`] for `C`, valid for the call.
unsafe extern "C" fn doit_trampoline<C: Command>(
    _skb: *mut bindings::sk_buff,
    info: *mut bindings::genl_info,
) -> c_int {
    // SAFETY: generic netlink passes a valid `info` for the duration of
    // the call.
    let req = unsafe { Request::from_raw(info) };
    errno(C::doit(&req))
}

/// The C `dumpit` of command `C`.
///
/// # Safety
///
/// `skb` and `cb` are the buffer and state netlink passes to the `dumpit`
/// of an op made by [`Op::new`] for `C`, valid and ours for the call.
unsafe extern "C" fn dumpit_trampoline<C: Command>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
) -> c_int {
    // SAFETY: netlink passes a valid message buffer and callback state for
    // the duration of the call; `cb` belongs to a generic netlink dump.
    let mut dump = unsafe { Dump::from_raw(skb, cb) };
    match C::dumpit(&mut dump) {
        // CAST: a netlink message is far below 2 GiB.
        Ok(()) => dump.len() as c_int,
        Err(e) => e.to_errno(),
    }
}

/// A request to a family's `doit`.
///
/// # Invariants
///
/// `info` is valid for `'a`.
pub(crate) struct Request<'a> {
    info: *mut bindings::genl_info,
    _p: PhantomData<&'a bindings::genl_info>,
}

impl<'a> Request<'a> {
    /// Wraps the `genl_info` of a request.
    ///
    /// # Safety
    ///
    /// `info` is valid for `'a`.
    unsafe fn from_raw(info: *mut bindings::genl_info) -> Self {
        // INVARIANT: guaranteed by the caller.
        Request {
            info,
            _p: PhantomData,
        }
    }

    /// The attributes of the request, as the policy accepted them.
    pub(crate) fn attrs<A: Into<u16>>(&self) -> Attrs<'a, A> {
        // SAFETY: `info` is valid (type invariant); generic netlink parsed
        // the request into a table of the family's `maxattr + 1` entries.
        unsafe { attrs_from_table((*self.info).attrs, (*(*self.info).family).maxattr) }
    }

    /// Sends a message of command `cmd`, filled by `fill`, to the listeners
    /// of the family's multicast group `group` in the request's namespace.
    pub(crate) fn notify(
        &self,
        group: u32,
        cmd: u8,
        fill: impl FnOnce(&mut Message<'_>) -> Result,
    ) -> Result {
        let net = self.net()?;
        // SAFETY: `info` is valid (type invariant) and names the registered
        // family that is handling it.
        unsafe { multicast((*self.info).family, &net, group, cmd, fill) }
    }

    /// The network namespace of the requesting socket.
    pub(crate) fn net(&self) -> Result<Net<'a>> {
        // SAFETY: `info` is valid (type invariant).
        let net = unsafe { bindings::genl_info_net(self.info) };
        // SAFETY: the namespace of a requesting socket outlives the request.
        unsafe { Net::from_raw(net) }.ok_or(EINVAL)
    }

    /// Reports `msg` to the requester with the error (extack).
    pub(crate) fn set_err_msg(&self, msg: &'static CStr) {
        // SAFETY: `info` is valid (type invariant); `msg` is static.
        unsafe { bindings::fou_rs_genl_set_err_msg(self.info, msg.as_char_ptr()) };
    }

    /// Replies with one message of command `cmd`, filled by `fill`.
    pub(crate) fn reply(&self, cmd: u8, fill: impl FnOnce(&mut Message<'_>) -> Result) -> Result {
        // SAFETY: allocating a message has no preconditions.
        let skb = unsafe { bindings::fou_rs_genlmsg_new_default() };
        if skb.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: `info` is valid (type invariant); `skb` is a fresh
        // message we own.
        let (portid, seq, family) =
            unsafe { ((*self.info).snd_portid, (*self.info).snd_seq, (*self.info).family) };
        // SAFETY: `skb` is ours; the family is the registered one.
        let r = unsafe { Message::begin(skb, portid, seq, family, 0, cmd) }.and_then(|mut m| {
            fill(&mut m)?;
            m.end();
            Ok(())
        });
        match r {
            Err(e) => {
                // SAFETY: `skb` is ours and not handed on.
                unsafe { bindings::nlmsg_free(skb) };
                Err(e)
            }
            // SAFETY: `skb` is a complete message; `genlmsg_reply` consumes
            // it whatever it returns.
            Ok(()) => to_result(unsafe { bindings::genlmsg_reply(skb, self.info) }),
        }
    }
}

/// A generic netlink message under construction in a buffer.
///
/// # Invariants
///
/// `skb` is a message buffer owned by the caller for `'a`, and `hdr` the
/// header `genlmsg_put` added to it.
pub(crate) struct Message<'a> {
    skb: *mut bindings::sk_buff,
    hdr: *mut c_void,
    _p: PhantomData<&'a mut bindings::sk_buff>,
}

impl Message<'_> {
    /// Starts a message; `EMSGSIZE` when the buffer has no room.
    ///
    /// # Safety
    ///
    /// `skb` is a netlink message buffer the caller may write for `'a`, and
    /// `family` a registered family.
    unsafe fn begin(
        skb: *mut bindings::sk_buff,
        portid: u32,
        seq: u32,
        family: *const bindings::genl_family,
        flags: c_int,
        cmd: u8,
    ) -> Result<Self> {
        // SAFETY: guaranteed by the caller.
        let hdr = unsafe { bindings::genlmsg_put(skb, portid, seq, family, flags, cmd) };
        if hdr.is_null() {
            return Err(EMSGSIZE);
        }
        // INVARIANT: `hdr` was just added to `skb`.
        Ok(Message {
            skb,
            hdr,
            _p: PhantomData,
        })
    }

    /// Finishes the message: its length is from its netlink header to the
    /// buffer's tail (`genlmsg_end`, inline: a dump ends one per entry).
    #[inline(always)]
    fn end(self) {
        // The tail is an offset from `head` (`NET_SKBUFF_DATA_USES_OFFSET`,
        // as on every 64-bit kernel), not a pointer.
        const _: () = assert!(size_of::<bindings::sk_buff_data_t>() == 4);
        // SAFETY: `hdr` heads the message in `skb` (type invariant), after
        // the message's netlink and genl headers (`HDRLEN` bytes, put by
        // `genlmsg_put` in the same buffer, 4-byte aligned as netlink
        // aligns every message); the tail is at or after its end.
        unsafe {
            let nlh = self.hdr.cast::<u8>().sub(HDRLEN);
            let tail = (*self.skb).head.add((*self.skb).tail as usize);
            // CAST: one message, far below 4 GiB.
            (*nlh.cast::<bindings::nlmsghdr>()).nlmsg_len = tail.offset_from(nlh) as u32;
        }
    }

    /// Removes the unfinished message from the buffer.
    fn cancel(self) {
        // SAFETY: `hdr` heads the message in `skb` (type invariant).
        unsafe { bindings::genlmsg_cancel(self.skb, self.hdr) };
    }

    /// Adds attribute `attr` with payload `data`; `EMSGSIZE` when full.
    /// Inlined, as the helpers below: a dump calls them for every attribute
    /// of every entry.
    #[inline(always)]
    pub(crate) fn put(&mut self, attr: impl Into<u16>, data: &[u8]) -> Result {
        // CAST: payloads here are at most 16 bytes.
        let len = data.len() as c_int;
        // SAFETY: `skb` is writable (type invariant); `data` is valid for
        // `len` bytes and copied.
        let ret = unsafe {
            bindings::nla_put(self.skb, c_int::from(attr.into()), len, data.as_ptr().cast::<c_void>())
        };
        check(ret)
    }

    /// Adds a u8 attribute.
    #[inline(always)]
    pub(crate) fn put_u8(&mut self, attr: impl Into<u16>, v: u8) -> Result {
        self.put(attr, &[v])
    }

    /// Adds a big-endian 16-bit attribute from a host-order value.
    #[inline(always)]
    pub(crate) fn put_be16(&mut self, attr: impl Into<u16>, v: u16) -> Result {
        self.put(attr, &v.to_be_bytes())
    }

    /// Adds a signed 32-bit attribute.
    #[inline(always)]
    pub(crate) fn put_s32(&mut self, attr: impl Into<u16>, v: i32) -> Result {
        self.put(attr, &v.to_ne_bytes())
    }

    /// Adds a flag attribute.
    #[inline(always)]
    pub(crate) fn put_flag(&mut self, attr: impl Into<u16>) -> Result {
        self.put(attr, &[])
    }

    /// Adds attribute `attr` holding the attributes `fill` adds
    /// (`nla_nest_start`, `nla_nest_end`); nothing on error.
    pub(crate) fn put_nest(&mut self, attr: impl Into<u16>, fill: impl FnOnce(&mut Nest<'_, '_>) -> Result) -> Result {
        // SAFETY: `skb` is writable (type invariant).
        let nest = unsafe { bindings::nla_nest_start(self.skb, c_int::from(attr.into())) };
        if nest.is_null() {
            return Err(EMSGSIZE);
        }
        let r = fill(&mut Nest { msg: self });
        // SAFETY: `nest` was started in `skb` above, and everything after it
        // is its content.
        unsafe {
            match r {
                Ok(()) => {
                    bindings::nla_nest_end(self.skb, nest);
                }
                Err(_) => bindings::nla_nest_cancel(self.skb, nest),
            }
        }
        r
    }
}

/// The content of a nested attribute being added to a [`Message`]: numbered
/// by the nest's own attribute set.
pub(crate) struct Nest<'m, 'a> {
    msg: &'m mut Message<'a>,
}

impl Nest<'_, '_> {
    /// Adds attribute `ty` as a 64-bit unsigned integer (YNL's `uint`,
    /// `NLA_UINT`, in host order).
    #[inline(always)]
    pub(crate) fn put_uint(&mut self, ty: u16, v: u64) -> Result {
        let data = v.to_ne_bytes();
        // SAFETY: `skb` is writable (type invariant of `Message`); `data` is
        // valid for 8 bytes and copied.
        let ret = unsafe {
            bindings::nla_put(self.msg.skb, c_int::from(ty), 8, data.as_ptr().cast::<c_void>())
        };
        check(ret)
    }
}

/// The size of the cursor a dump keeps between its parts.
pub(crate) const CURSOR_SIZE: usize = 48;

/// One part of a dump: a buffer to fill and the cursor kept between parts.
///
/// # Invariants
///
/// `skb` and `cb` are valid for `'a`, and `cb` belongs to a generic netlink
/// dump.
pub(crate) struct Dump<'a> {
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    /// The requester's port, the request's sequence number and the family,
    /// which every message of the dump carries: read once per part.
    portid: u32,
    seq: u32,
    family: *const bindings::genl_family,
    _p: PhantomData<&'a mut bindings::netlink_callback>,
}

impl<'a> Dump<'a> {
    /// Wraps the arguments of `dumpit`.
    ///
    /// # Safety
    ///
    /// `skb` and `cb` are valid for `'a`; `cb` belongs to a generic netlink
    /// dump.
    unsafe fn from_raw(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> Self {
        // SAFETY: `cb`, its request header and the dump's info are valid
        // (the caller's guarantee).
        let (portid, seq, family) = unsafe {
            (
                bindings::fou_rs_dump_portid(cb),
                (*(*cb).nlh).nlmsg_seq,
                (*bindings::fou_rs_dump_info(cb)).family,
            )
        };
        // INVARIANT: guaranteed by the caller.
        Dump {
            skb,
            cb,
            portid,
            seq,
            family,
            _p: PhantomData,
        }
    }

    /// The genl_info of the dump.
    fn info(&self) -> *const bindings::genl_info {
        // SAFETY: `cb` belongs to a generic netlink dump (type invariant).
        unsafe { bindings::fou_rs_dump_info(self.cb) }
    }

    /// Bytes in the buffer so far.
    fn len(&self) -> u32 {
        // SAFETY: `skb` is valid (type invariant).
        unsafe { (*self.skb).len }
    }

    /// The network namespace of the requesting socket.
    pub(crate) fn net(&self) -> Result<Net<'a>> {
        // SAFETY: the dump's genl_info is valid for `'a`.
        let net = unsafe { bindings::genl_info_net(self.info()) };
        // SAFETY: the requesting socket's namespace outlives the dump part.
        unsafe { Net::from_raw(net) }.ok_or(EINVAL)
    }

    /// The attributes of the dump request, unvalidated (the ops do not
    /// validate dumps): the last of each type the family knows, with
    /// whatever payload it carries.
    pub(crate) fn attrs<A: Into<u16>>(&self) -> Attrs<'a, A> {
        // SAFETY: the dump's genl_info is valid for `'a`, its family
        // registered, and its `nlhdr` the request, which netlink keeps for
        // the whole dump and whose `nlmsg_len` bytes it checked to lie
        // inside the received buffer.
        let (msg, maxattr) = unsafe {
            let info = self.info();
            let nlh = (*info).nlhdr;
            (
                core::slice::from_raw_parts(nlh.cast::<u8>(), (*nlh).nlmsg_len as usize),
                (*(*info).family).maxattr,
            )
        };
        // CAST: at most `ATTR_SLOTS`, checked at registration.
        attrs_from_message(msg, maxattr as u16)
    }

    /// The cursor, zeroed at the start of a dump and kept between parts.
    pub(crate) fn cursor(&mut self) -> &mut [u8; CURSOR_SIZE] {
        const _: () = assert!(CURSOR_SIZE <= size_of::<bindings::netlink_callback__bindgen_ty_1>());
        // SAFETY: `cb` is valid and exclusively ours during `dumpit` (type
        // invariant); `ctx` is at least `CURSOR_SIZE` bytes of plain data.
        unsafe { &mut *(*self.cb).__bindgen_anon_1.ctx.as_mut_ptr().cast::<[u8; CURSOR_SIZE]>() }
    }

    /// Adds one message of command `cmd`, filled by `fill`.
    ///
    /// Returns `Ok(false)`, leaving the buffer as it was, when the message
    /// does not fit: the caller stops and resumes there in the next part.
    /// A message that does not fit in an empty buffer is `EMSGSIZE`.
    pub(crate) fn add(&mut self, cmd: u8, fill: impl FnOnce(&mut Message<'_>) -> Result) -> Result<bool> {
        let empty = self.len() == 0;
        // CAST: `NLM_F_MULTI` is 2.
        let flags = bindings::NLM_F_MULTI as c_int;
        // SAFETY: `skb` is the dump's buffer, ours during `dumpit`; the
        // family is the registered one.
        let mut msg = match unsafe { Message::begin(self.skb, self.portid, self.seq, self.family, flags, cmd) } {
            Ok(m) => m,
            Err(_) if !empty => return Ok(false),
            Err(e) => return Err(e),
        };
        match fill(&mut msg) {
            Ok(()) => {
                msg.end();
                Ok(true)
            }
            Err(e) if e == EMSGSIZE && !empty => {
                msg.cancel();
                Ok(false)
            }
            Err(e) => {
                msg.cancel();
                Err(e)
            }
        }
    }
}

#[kunit_tests(fou_rs_genl)]
mod tests {
    use super::*;

    /// A request's bytes: netlink and genl headers (unchecked here), then
    /// `attrs`.
    fn message(attrs: &[u8]) -> KVec<u8> {
        let mut m = KVec::new();
        m.extend_from_slice(&[0u8; 20], GFP_KERNEL).unwrap();
        m.extend_from_slice(attrs, GFP_KERNEL).unwrap();
        m
    }

    #[test]
    fn a_dump_request_is_read_as_nla_parse_reads_it() {
        let m = message(&[
            6, 0, 1, 0, 0x12, 0x34, 0, 0, // 1: 2 bytes, padded
            5, 0, 3, 0, 7, 0, 0, 0, // 3: 1 byte
            5, 0, 3, 0, 9, 0, 0, 0, // 3 again: the last wins
            4, 0, 0x02, 0x80, // 2, nested flag set: empty
            8, 0, 9, 0, 1, 2, 3, 4, // 9: above maxattr, ignored
            8, 0, 4, 0, 1, 2, // 4: longer than what is left, ends the walk
        ]);
        let a: Attrs<'_, u16> = attrs_from_message(&m, 4);
        assert_eq!(a.get(1), Some(&[0x12, 0x34][..]));
        assert_eq!(a.u8(3), Ok(Some(9)));
        assert_eq!(a.get(2), Some(&[][..]));
        assert_eq!(a.get(9), None);
        assert_eq!(a.get(4), None);
        // Too short for its type, as `nla_get_*` would read it: EINVAL.
        assert_eq!(a.s32(1), Err(EINVAL));
        // Attribute numbers beyond the slots are absent, not a panic.
        assert_eq!(a.get(u16::MAX), None);
    }

    #[test]
    fn a_message_shorter_than_its_headers_has_no_attributes() {
        let a: Attrs<'_, u16> = attrs_from_message(&[1, 2, 3], 4);
        assert_eq!(a.get(1), None);
    }
}
