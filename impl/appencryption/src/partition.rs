//! Partitions: the system and intermediate key ids of a session, and which intermediate key ids it may decrypt
//! with (docs/compatibility.md#key-ids, docs/compatibility.md#partitions-and-region-suffixes).

use std::sync::Arc;

/// What every partition of one factory shares: the `_{service}_{product}` tail of its ids, the metastore's region
/// suffix, and so the system key id, built once per factory instead of once per session.
#[derive(Debug, Clone)]
pub(crate) struct PartitionScope {
    tail: String,
    suffix: Option<String>,
    system_key_id: Arc<str>,
}

impl PartitionScope {
    /// Ids built by plain concatenation, no escaping (docs/compatibility.md#key-ids). `suffix`: the metastore's
    /// region suffix.
    pub(crate) fn new(service: &str, product: &str, suffix: Option<&str>) -> Self {
        let tail = format!("_{service}_{product}");
        let suffix = suffix.filter(|s| !s.is_empty()).map(str::to_owned);
        let system_key_id = match &suffix {
            None => format!("_SK{tail}"),
            Some(suffix) => format!("_SK{tail}_{suffix}"),
        };
        Self {
            tail,
            suffix,
            system_key_id: system_key_id.into(),
        }
    }

    /// The ids of `partition_id`: one string built, plus the unsuffixed prefix when there is a suffix.
    pub(crate) fn partition(&self, partition_id: &str) -> Partition {
        const PREFIX: &str = "_IK_";
        let suffix_len = self.suffix.as_ref().map_or(0, |s| 1 + s.len());
        let mut ik =
            String::with_capacity(PREFIX.len() + partition_id.len() + self.tail.len() + suffix_len);
        ik.push_str(PREFIX);
        ik.push_str(partition_id);
        ik.push_str(&self.tail);
        let unsuffixed_intermediate_key_id = self.suffix.as_ref().map(|suffix| {
            let unsuffixed = Box::<str>::from(ik.as_str());
            ik.push('_');
            ik.push_str(suffix);
            unsuffixed
        });
        Partition {
            intermediate_key_id: ik.into(),
            partition_id: PREFIX.len()..PREFIX.len() + partition_id.len(),
            system_key_id: Arc::clone(&self.system_key_id),
            unsuffixed_intermediate_key_id,
        }
    }
}

/// The key ids of one partition within a (service, product), optionally suffixed by a region.
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    intermediate_key_id: Arc<str>,
    /// Where the caller's partition id sits in `intermediate_key_id` (`_IK_{partition}_…`).
    partition_id: std::ops::Range<usize>,
    system_key_id: Arc<str>,
    /// The unsuffixed intermediate key id, accepted as a prefix when suffixed
    /// (docs/compatibility.md#partitions-and-region-suffixes,
    /// docs/compatibility.md#q7-suffixed-partitions-accept-ids-by-prefix).
    unsuffixed_intermediate_key_id: Option<Box<str>>,
}

impl Partition {
    /// A partition of its own scope (tests).
    #[cfg(test)]
    pub(crate) fn new(
        partition_id: &str,
        service: &str,
        product: &str,
        suffix: Option<&str>,
    ) -> Self {
        PartitionScope::new(service, product, suffix).partition(partition_id)
    }

    pub(crate) fn partition_id(&self) -> &str {
        self.intermediate_key_id
            .get(self.partition_id.clone())
            .unwrap_or_default()
    }

    pub(crate) fn system_key_id(&self) -> &Arc<str> {
        &self.system_key_id
    }

    pub(crate) fn intermediate_key_id(&self) -> &Arc<str> {
        &self.intermediate_key_id
    }

    /// Whether a DRR's intermediate key id may be used by this session
    /// (docs/compatibility.md#partitions-and-region-suffixes): exact match for a default partition; for a suffixed
    /// one, the suffixed id or anything starting with the unsuffixed id (so records from before the suffix and from
    /// other regions decrypt — and, as in Go and Java, any id sharing that prefix).
    pub(crate) fn is_valid_intermediate_key_id(&self, id: &str) -> bool {
        if id == &*self.intermediate_key_id {
            return true;
        }
        match &self.unsuffixed_intermediate_key_id {
            Some(prefix) => id.starts_with(&**prefix),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ids_follow_the_spec() {
        let p = Partition::new("partition", "service", "product", None);
        assert_eq!(&**p.system_key_id(), "_SK_service_product");
        assert_eq!(&**p.intermediate_key_id(), "_IK_partition_service_product");
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product"));
        assert!(!p.is_valid_intermediate_key_id("_IK_partition_service_product_us-west-2"));
        assert!(!p.is_valid_intermediate_key_id("_IK_other_service_product"));
        assert_eq!(p.partition_id(), "partition");
    }

    #[test]
    fn suffixed_ids_follow_the_spec_and_validate_by_prefix() {
        let p = Partition::new("partition", "service", "product", Some("us-west-2"));
        assert_eq!(&**p.system_key_id(), "_SK_service_product_us-west-2");
        assert_eq!(
            &**p.intermediate_key_id(),
            "_IK_partition_service_product_us-west-2"
        );
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product_us-west-2"));
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product"));
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product_eu-west-1"));
        // docs/compatibility.md#q7-suffixed-partitions-accept-ids-by-prefix, reproduced: a raw prefix test.
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product2"));
        assert!(!p.is_valid_intermediate_key_id("_IK_partitio_service_product"));
        assert_eq!(p.partition_id(), "partition");
    }

    proptest::proptest! {
        /// The ids are the spec's plain concatenations, and the partition id reads back out of the IK id, for any
        /// partition id, service, product and suffix.
        #[test]
        fn ids_are_plain_concatenations(
            partition in ".{0,40}",
            service in ".{0,12}",
            product in ".{0,12}",
            suffix in proptest::option::of(".{0,12}"),
        ) {
            let p = Partition::new(&partition, &service, &product, suffix.as_deref());
            let suffix = suffix.filter(|s| !s.is_empty()).map(|s| format!("_{s}")).unwrap_or_default();
            proptest::prop_assert_eq!(p.partition_id(), partition.as_str());
            proptest::prop_assert_eq!(
                &**p.intermediate_key_id(),
                format!("_IK_{partition}_{service}_{product}{suffix}")
            );
            proptest::prop_assert_eq!(
                &**p.system_key_id(),
                format!("_SK_{service}_{product}{suffix}")
            );
        }
    }

    #[test]
    fn empty_suffix_means_default() {
        let p = Partition::new("p", "s", "r", Some(""));
        assert_eq!(&**p.intermediate_key_id(), "_IK_p_s_r");
    }

    #[test]
    fn no_escaping_is_applied() {
        let p = Partition::new("a_b<&>", "s", "r", None);
        assert_eq!(&**p.intermediate_key_id(), "_IK_a_b<&>_s_r");
    }
}
