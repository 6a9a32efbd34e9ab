//! Copy on write for the picture's maps: the feed publishes a copy of the picture after
//! every batch of events, so a copy must cost pointers, not a walk over every app, agent
//! and endpoint (at 1,000 hosts those copies were most of the cockpit's CPU). The first
//! change after a copy copies the map once.

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

#[derive(Debug, Default, PartialEq)]
pub struct Shared<T>(Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(Arc::clone(&self.0))
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A change goes to this copy alone: it is copied first if another copy shares it.
impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

impl<T> From<T> for Shared<T> {
    fn from(value: T) -> Self {
        Shared(Arc::new(value))
    }
}

impl<T: FromIterator<A>, A> FromIterator<A> for Shared<T> {
    fn from_iter<I: IntoIterator<Item = A>>(iter: I) -> Self {
        Shared::from(T::from_iter(iter))
    }
}

impl<'a, T> IntoIterator for &'a Shared<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&*self.0).into_iter()
    }
}

impl<T> Shared<T> {
    /// Whether two copies still share one map.
    pub fn shares_with(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_copy_shares_until_one_side_changes() {
        let mut a: Shared<BTreeMap<u8, u8>> = BTreeMap::from([(1, 1)]).into();
        let b = a.clone();
        assert!(a.shares_with(&b));
        a.insert(2, 2);
        assert!(!a.shares_with(&b));
        assert_eq!(b.len(), 1);
        assert_eq!((&a).into_iter().count(), 2);
    }
}
