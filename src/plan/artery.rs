//! One artery of a session, however many entries the plan writes it in
//! (SPEC §2, "Arteries").
//!
//! A plan may list the same artery twice in one session — once to document
//! it, once to treat it, or split over two entries of 3 mg. Entries of one
//! session whose names are equal as names are one artery: it is treated when
//! one of its entries is, its doses are summed over its entries, its diameter
//! is the smallest among all of them (treated or not), it shares a spinal
//! origin when one entry says so, and it has an embolic agent when one entry
//! has one. Every rule that speaks of arteries reads them from here.

use super::{Artery, DrugDose};
use crate::decimal::Decimal;

/// One artery of a session: every entry of the session with its name.
#[derive(Clone, Debug)]
pub struct SessionArtery<'p> {
    /// The entries, in plan order; never empty.
    entries: Vec<&'p Artery>,
}

impl<'p> SessionArtery<'p> {
    /// Groups a session's entries by name (compared as names), in order of
    /// each artery's first entry.
    pub(super) fn group(entries: &'p [Artery]) -> Vec<SessionArtery<'p>> {
        let mut arteries: Vec<SessionArtery<'p>> = Vec::new();
        for entry in entries {
            let same = |artery: &&mut SessionArtery<'p>| {
                artery.first().name.canonical == entry.name.canonical
            };
            match arteries.iter_mut().find(same) {
                Some(artery) => artery.entries.push(entry),
                None => arteries.push(SessionArtery { entries: vec![entry] }),
            }
        }
        arteries
    }

    /// The artery's first entry: its name and pointer stand for the artery.
    pub fn first(&self) -> &'p Artery {
        // `group` never makes an artery without an entry.
        self.entries[0]
    }

    /// Every entry of the artery, in plan order.
    pub fn entries(&self) -> &[&'p Artery] {
        &self.entries
    }

    /// Treated (embolised or infused) when one of its entries is.
    pub fn is_treated(&self) -> bool {
        self.entries.iter().any(|entry| entry.is_treated())
    }

    /// The smallest diameter among all its entries, treated or not: the
    /// narrowest measurement decides which dose caps apply.
    pub fn diameter_mm(&self) -> Decimal {
        let first = self.first().diameter_mm;
        self.entries.iter().map(|entry| entry.diameter_mm).fold(first, Decimal::min)
    }

    /// The entry that gives the smallest diameter (the first such).
    pub fn narrowest(&self) -> &'p Artery {
        let smallest = self.diameter_mm();
        self.entries
            .iter()
            .find(|entry| entry.diameter_mm == smallest)
            .copied()
            .unwrap_or(self.first())
    }

    /// Whether one of its entries is marked as sharing its origin with a
    /// spinal artery (`shares_origin_with_spinal_artery: true`).
    pub fn marked_as_spinal(&self) -> bool {
        self.entries.iter().any(|entry| entry.shares_origin_with_spinal_artery)
    }

    /// Whether one of its entries has an embolic agent.
    pub fn has_embolic(&self) -> bool {
        self.entries.iter().any(|entry| entry.embolic.is_some())
    }

    /// Every drug given into the artery, with the entry that gives it, in
    /// plan order.
    pub fn drugs(&self) -> impl Iterator<Item = (&'p Artery, &'p DrugDose)> + '_ {
        self.entries.iter().flat_map(|entry| entry.drugs.iter().map(move |drug| (*entry, drug)))
    }

    /// How messages name the artery: its name as first written, and how
    /// many entries it is written in when more than one ("left L3 lumbar
    /// artery (written as 2 entries)").
    pub fn label(&self) -> String {
        match self.entries.len() {
            1 => self.first().name.written.clone(),
            n => format!("{} (written as {n} entries)", self.first().name.written),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{artery, dec};

    #[test]
    fn entries_with_names_equal_as_names_are_one_artery() {
        let mut a = artery(0, "left L3 lumbar artery", "2.5", &[("pirarubicin", "3 mg")]);
        let mut b = artery(1, "  LEFT  l3 Lumbar artery ", "4.5", &[("pirarubicin", "3 mg")]);
        b.embolic = None;
        let mut c = artery(2, "right L3 lumbar artery", "2", &[]);
        c.embolic = None;
        a.shares_origin_with_spinal_artery = false;
        b.shares_origin_with_spinal_artery = true;
        let entries = [a, b, c];
        let grouped = super::SessionArtery::group(&entries);
        assert_eq!(grouped.len(), 2);
        let left = &grouped[0];
        assert_eq!(left.entries().len(), 2);
        assert_eq!(left.diameter_mm(), dec("2.5"));
        assert!(left.marked_as_spinal() && left.has_embolic() && left.is_treated());
        assert_eq!(left.drugs().count(), 2);
        assert_eq!(left.label(), "left L3 lumbar artery (written as 2 entries)");
        let right = &grouped[1];
        assert!(!right.is_treated() && !right.has_embolic());
        assert_eq!(right.diameter_mm(), dec("2"));
    }
}
