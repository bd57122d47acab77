//! Keeping the `k` smallest of a stream in `O(k)` memory: the oldest plans
//! of an inbox listing, or of the plans ready to be read, without holding
//! (or sorting) all of them.

use std::collections::BinaryHeap;

/// The `k` smallest items offered so far.
#[derive(Debug)]
pub struct Oldest<T: Ord> {
    /// A max-heap: its top is the first to give way to a smaller item.
    kept: BinaryHeap<T>,
    /// How many are kept at most.
    k: usize,
    /// Whether an item was offered and not kept (or pushed out).
    dropped: bool,
}

impl<T: Ord> Oldest<T> {
    /// Keeps at most `k` items.
    pub fn new(k: usize) -> Oldest<T> {
        Oldest { kept: BinaryHeap::new(), k, dropped: false }
    }

    /// Offers an item: kept if it is among the `k` smallest so far.
    pub fn offer(&mut self, item: T) {
        if self.kept.len() < self.k {
            self.kept.push(item);
            return;
        }
        self.dropped = true;
        if let Some(mut largest) = self.kept.peek_mut() {
            if item < *largest {
                *largest = item;
            }
        }
    }

    /// Whether some item offered is not among those kept.
    pub fn dropped_some(&self) -> bool {
        self.dropped
    }

    /// The items kept, smallest first.
    pub fn into_sorted(self) -> Vec<T> {
        self.kept.into_sorted_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_the_smallest_in_order() {
        let mut oldest = Oldest::new(3);
        for n in [5, 1, 9, 3, 7, 2] {
            oldest.offer(n);
        }
        assert!(oldest.dropped_some());
        assert_eq!(oldest.into_sorted(), [1, 2, 3]);
    }

    #[test]
    fn keeps_everything_below_the_bound() {
        let mut oldest = Oldest::new(10);
        for n in [2, 1] {
            oldest.offer(n);
        }
        assert!(!oldest.dropped_some());
        assert_eq!(oldest.into_sorted(), [1, 2]);
    }

    #[test]
    fn a_bound_of_zero_keeps_nothing_and_says_so() {
        let mut oldest = Oldest::new(0);
        oldest.offer(1);
        assert!(oldest.dropped_some());
        assert!(oldest.into_sorted().is_empty());
    }

    proptest! {
        #[test]
        fn the_same_as_sorting_everything(items in prop::collection::vec(0u16..500, 0..200), k in 0usize..50) {
            let mut oldest = Oldest::new(k);
            for &n in &items {
                oldest.offer(n);
            }
            let mut sorted = items.clone();
            sorted.sort();
            sorted.truncate(k);
            prop_assert_eq!(oldest.dropped_some(), items.len() > k);
            prop_assert_eq!(oldest.into_sorted(), sorted);
        }
    }
}
