//! Partitions: the system and intermediate key ids of a session, and which intermediate key ids it may decrypt
//! with (spec §1.2, §6).

use std::sync::Arc;

/// The key ids of one partition within a (service, product), optionally suffixed by a region.
#[derive(Debug, Clone)]
pub(crate) struct Partition {
    partition_id: Arc<str>,
    system_key_id: Arc<str>,
    intermediate_key_id: Arc<str>,
    /// The unsuffixed intermediate key id, accepted as a prefix when suffixed (spec §6, quirk Q7).
    unsuffixed_intermediate_key_id: Option<Box<str>>,
}

impl Partition {
    /// Ids built by plain concatenation, no escaping (spec §1.2). `suffix`: the metastore's region suffix.
    pub(crate) fn new(
        partition_id: &str,
        service: &str,
        product: &str,
        suffix: Option<&str>,
    ) -> Self {
        let sk = format!("_SK_{service}_{product}");
        let ik = format!("_IK_{partition_id}_{service}_{product}");
        match suffix.filter(|s| !s.is_empty()) {
            None => Partition {
                partition_id: partition_id.into(),
                system_key_id: sk.into(),
                intermediate_key_id: ik.into(),
                unsuffixed_intermediate_key_id: None,
            },
            Some(suffix) => Partition {
                partition_id: partition_id.into(),
                system_key_id: format!("{sk}_{suffix}").into(),
                intermediate_key_id: format!("{ik}_{suffix}").into(),
                unsuffixed_intermediate_key_id: Some(ik.into()),
            },
        }
    }

    pub(crate) fn partition_id(&self) -> &str {
        &self.partition_id
    }

    pub(crate) fn system_key_id(&self) -> &Arc<str> {
        &self.system_key_id
    }

    pub(crate) fn intermediate_key_id(&self) -> &Arc<str> {
        &self.intermediate_key_id
    }

    /// Whether a DRR's intermediate key id may be used by this session (spec §6): exact match for a default
    /// partition; for a suffixed one, the suffixed id or anything starting with the unsuffixed id (so records from
    /// before the suffix and from other regions decrypt — and, as in Go and Java, any id sharing that prefix).
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
        // Quirk Q7, reproduced: a raw prefix test.
        assert!(p.is_valid_intermediate_key_id("_IK_partition_service_product2"));
        assert!(!p.is_valid_intermediate_key_id("_IK_partitio_service_product"));
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
