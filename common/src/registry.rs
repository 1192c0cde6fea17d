//! Registries of named strategies — stage kinds ([`crate::stage`]), pruners
//! ([`crate::pruners`]) — and the `Copy` handle by which configs, stages and results name an
//! entry ([`registered_name!`](crate::registered_name)). The built-in entries come first, in
//! their canonical order; a paper or a test adds its own at run time with `register`. An
//! entry's name is its identity in stored files: an API boundary, never renamed.

use anyhow::{bail, Result};
use std::sync::RwLock;

/// Named entries of one kind of strategy.
pub struct Registry<T: ?Sized + 'static> {
    /// What an entry is, in errors ("branch kind", "pruner").
    what: &'static str,
    builtin: fn() -> Vec<&'static T>,
    name: fn(&T) -> &'static str,
    entries: RwLock<Vec<&'static T>>,
}

impl<T: ?Sized + Sync + 'static> Registry<T> {
    pub const fn new(what: &'static str, builtin: fn() -> Vec<&'static T>, name: fn(&T) -> &'static str) -> Self {
        Registry { what, builtin, name, entries: RwLock::new(Vec::new()) }
    }

    fn with<R>(&self, f: impl FnOnce(&[&'static T]) -> R) -> R {
        {
            let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
            if !entries.is_empty() {
                return f(&entries);
            }
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.is_empty() {
            *entries = (self.builtin)();
        }
        f(&entries)
    }

    /// Adds an entry after the built-in ones. Its name must be new, non-empty and free of `_`
    /// and `/` (stage folders use `_<copy>`).
    pub fn register(&self, entry: &'static T) -> Result<()> {
        let name = (self.name)(entry);
        if name.is_empty() || name == "main" || name.contains(['_', '/']) {
            bail!("{} name `{name}` is not allowed (non-empty, not `main`, no `_` or `/`)", self.what);
        }
        self.with(|_| ());
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.iter().any(|e| (self.name)(e) == name) {
            bail!("{} `{name}` is registered twice", self.what);
        }
        entries.push(entry);
        Ok(())
    }

    /// The entry called `name`, or an error listing the registered ones.
    pub fn find(&self, name: &str) -> Result<&'static T> {
        self.with(|entries| match entries.iter().find(|e| (self.name)(e) == name) {
            Some(e) => Ok(*e),
            None => {
                let known: Vec<&str> = entries.iter().map(|e| (self.name)(e)).collect();
                bail!("unknown {} `{name}`; choose one of {}", self.what, known.join(", "))
            }
        })
    }

    /// Where `name` stands in canonical order (after every entry when unregistered).
    pub fn position(&self, name: &str) -> usize {
        self.with(|entries| entries.iter().position(|e| (self.name)(e) == name).unwrap_or(usize::MAX))
    }
}

/// Defines a `Copy` handle naming an entry of a [`Registry`]: compared and hashed by name,
/// ordered as registered, (de)serialised as its name — deserialising an unregistered name is an
/// error listing the registered ones.
#[macro_export]
macro_rules! registered_name {
    ($(#[$doc:meta])* $name:ident => $registry:expr, $entry:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(&'static str);

        impl $name {
            /// The registered entry called `name`, or an error listing the registered ones.
            pub fn named(name: &str) -> anyhow::Result<$name> {
                $registry.find(name).map(|e| $name(e.name()))
            }

            pub fn as_str(self) -> &'static str {
                self.0
            }

            /// The entry itself (a handle is only made from a registered name, or is a
            /// built-in constant).
            pub fn get(self) -> &'static $entry {
                $registry.find(self.0).unwrap_or_else(|e| panic!("{e}"))
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                ($registry.position(self.0), self.0).cmp(&($registry.position(other.0), other.0))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = <String as serde::Deserialize>::deserialize(d)?;
                $name::named(&name).map_err(serde::de::Error::custom)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
    };
}
