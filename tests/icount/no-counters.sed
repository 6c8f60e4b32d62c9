# tests/icount/run: fou_rs without its per-port counting, to measure what
# the counters cost per packet (the add and the inner-handler lookup).
/^    pub(crate) fn add(&self, c: Counter, v: u64) {$/,/^    }$/c\
    pub(crate) fn add(&self, _c: Counter, _v: u64) {}
s/if !skb::protocol_handled(self\.cfg\.key\.family, proto) {/if false {/
