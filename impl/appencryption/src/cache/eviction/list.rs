//! Index-based intrusive doubly-linked lists: the building block of every policy.
//!
//! A policy keeps one `Vec<Links>` indexed by slot (the engine's entry index) and one or more [`List`] heads that
//! thread through it. Moving a slot between lists of the same arena is O(1) and allocation-free; there are no
//! pointers, no `unsafe` and no `Rc<RefCell<_>>`. A slot is in at most one list of an arena at a time; the caller
//! (the policy) upholds that, and every operation below relies on it.

/// Index of an entry in the engine's slab. Every policy identifies entries by it.
pub(crate) type Slot = u32;

/// "No slot": the end of a list. Never a valid slot, because a cache holds at most `u32::MAX - 1` entries.
pub(crate) const NIL: Slot = Slot::MAX;

/// Position of an element inside one list of an arena.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Links {
    prev: Slot,
    next: Slot,
}

impl Default for Links {
    fn default() -> Self {
        Self {
            prev: NIL,
            next: NIL,
        }
    }
}

impl Links {
    /// The element after this one (towards the back), if any.
    pub(crate) fn next(&self) -> Option<Slot> {
        (self.next != NIL).then_some(self.next)
    }
}

/// Make `arena[slot]` addressable. Slots are dense (the engine reuses freed ones), so this grows by at most one
/// element per new slot.
pub(crate) fn ensure_slot<T: Default>(arena: &mut Vec<T>, slot: Slot) {
    let needed = slot as usize + 1;
    if arena.len() < needed {
        arena.resize_with(needed, T::default);
    }
}

/// Head of one list: front is the most recently pushed-to-front element, back the oldest.
#[derive(Debug, Clone, Copy)]
pub(crate) struct List {
    head: Slot,
    tail: Slot,
    len: usize,
}

impl Default for List {
    fn default() -> Self {
        Self::new()
    }
}

impl List {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The front element, if any.
    pub(crate) fn front(&self) -> Option<Slot> {
        (self.head != NIL).then_some(self.head)
    }

    /// The back element, if any.
    pub(crate) fn back(&self) -> Option<Slot> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Insert `slot` (not in any list of `arena`) at the front.
    pub(crate) fn push_front(&mut self, arena: &mut [Links], slot: Slot) {
        arena[slot as usize] = Links {
            prev: NIL,
            next: self.head,
        };
        if self.head == NIL {
            self.tail = slot;
        } else {
            arena[self.head as usize].prev = slot;
        }
        self.head = slot;
        self.len += 1;
    }

    /// Insert `slot` (not in any list of `arena`) at the back.
    pub(crate) fn push_back(&mut self, arena: &mut [Links], slot: Slot) {
        arena[slot as usize] = Links {
            prev: self.tail,
            next: NIL,
        };
        if self.tail == NIL {
            self.head = slot;
        } else {
            arena[self.tail as usize].next = slot;
        }
        self.tail = slot;
        self.len += 1;
    }

    /// Insert `slot` (not in any list of `arena`) right after `after` (which is in this list).
    pub(crate) fn insert_after(&mut self, arena: &mut [Links], after: Slot, slot: Slot) {
        let next = arena[after as usize].next;
        if next == NIL {
            self.push_back(arena, slot);
            return;
        }
        arena[slot as usize] = Links { prev: after, next };
        arena[after as usize].next = slot;
        arena[next as usize].prev = slot;
        self.len += 1;
    }

    /// Remove `slot` (which is in this list) from it.
    pub(crate) fn unlink(&mut self, arena: &mut [Links], slot: Slot) {
        let Links { prev, next } = arena[slot as usize];
        if prev == NIL {
            self.head = next;
        } else {
            arena[prev as usize].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            arena[next as usize].prev = prev;
        }
        arena[slot as usize] = Links::default();
        self.len -= 1;
    }

    /// Move `slot` (which is in this list) to the front.
    pub(crate) fn move_to_front(&mut self, arena: &mut [Links], slot: Slot) {
        if self.head != slot {
            self.unlink(arena, slot);
            self.push_front(arena, slot);
        }
    }

    /// The elements front to back (tests and debugging only: O(n)).
    #[cfg(test)]
    pub(crate) fn collect_slots(&self, arena: &[Links]) -> Vec<Slot> {
        let mut out = Vec::with_capacity(self.len);
        let mut cur = self.head;
        while cur != NIL {
            out.push(cur);
            cur = arena[cur as usize].next;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arena(n: u32) -> Vec<Links> {
        let mut a = Vec::new();
        ensure_slot(&mut a, n - 1);
        a
    }

    #[test]
    fn push_unlink_and_move_keep_order_and_len() {
        let mut a = arena(5);
        let mut l = List::new();
        for s in 0..4 {
            l.push_front(&mut a, s);
        }
        assert_eq!(l.collect_slots(&a), [3, 2, 1, 0]);
        assert_eq!((l.front(), l.back(), l.len()), (Some(3), Some(0), 4));

        l.move_to_front(&mut a, 0);
        assert_eq!(l.collect_slots(&a), [0, 3, 2, 1]);
        l.unlink(&mut a, 2);
        assert_eq!(l.collect_slots(&a), [0, 3, 1]);
        l.push_back(&mut a, 4);
        l.insert_after(&mut a, 0, 2);
        assert_eq!(l.collect_slots(&a), [0, 2, 3, 1, 4]);
        assert_eq!((l.front(), l.back(), l.len()), (Some(0), Some(4), 5));
    }

    #[test]
    fn two_lists_share_one_arena() {
        let mut a = arena(4);
        let (mut x, mut y) = (List::new(), List::new());
        x.push_front(&mut a, 0);
        x.push_front(&mut a, 1);
        y.push_front(&mut a, 2);
        x.unlink(&mut a, 0);
        y.push_back(&mut a, 0);
        assert_eq!(x.collect_slots(&a), [1]);
        assert_eq!(y.collect_slots(&a), [2, 0]);
        y.unlink(&mut a, 2);
        y.unlink(&mut a, 0);
        assert_eq!((y.front(), y.back(), y.len()), (None, None, 0));
    }
}
