//! [`DownSet`]: the server slots an active health check found down, as a bit set.
//!
//! Built by the control thread for one route table and sent to every worker (each its own copy); a worker only
//! reads it. Knows nothing about why a server is down.

/// A set of server slots (bit `i` = slot `i`). Empty means every server is up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownSet {
    words: Box<[u64]>,
}

impl DownSet {
    /// The set of `slots` for which `down` answers true.
    pub fn from_fn(slots: usize, mut down: impl FnMut(usize) -> bool) -> Self {
        let mut words = vec![0u64; slots.div_ceil(64)];
        let mut any = false;
        for slot in 0..slots {
            if down(slot) {
                any = true;
                if let Some(word) = words.get_mut(slot / 64) {
                    *word |= 1 << (slot % 64);
                }
            }
        }
        if !any {
            return DownSet::default();
        }
        DownSet {
            words: words.into_boxed_slice(),
        }
    }

    /// Is `slot` down?
    pub fn contains(&self, slot: usize) -> bool {
        self.words.get(slot / 64).is_some_and(|w| w & (1 << (slot % 64)) != 0)
    }

    /// Number of slots in the set.
    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// True when every server is up.
    pub fn is_empty(&self) -> bool {
        self.words.iter().all(|&w| w == 0)
    }
}
