//! The small view of a store transaction that strategies and allocators use, plus JSON helpers.

use serde_json::Value;

pub trait TxnExt {
    fn get_raw(&mut self, key: &str) -> Option<Vec<u8>>;
    fn put_raw(&mut self, key: &str, value: Vec<u8>);
    fn delete_raw(&mut self, key: &str) -> bool;
    /// Keys and values under `prefix`, in key order.
    fn scan(&mut self, prefix: &str) -> Vec<(String, Vec<u8>)>;
    /// The revision this transaction commits as.
    fn revision(&self) -> u64;
}

impl dyn TxnExt + '_ {
    pub fn get_json(&mut self, key: &str) -> Option<Value> {
        self.get_raw(key)
            .and_then(|b| serde_json::from_slice(&b).ok())
    }
    pub fn put_json(&mut self, key: &str, v: &Value) {
        self.put_raw(key, serde_json::to_vec(v).expect("JSON serializes"));
    }
}

impl TxnExt for twinstack_store::Txn<'_> {
    fn get_raw(&mut self, key: &str) -> Option<Vec<u8>> {
        twinstack_store::Txn::get(self, key).map(|kv| kv.value)
    }
    fn put_raw(&mut self, key: &str, value: Vec<u8>) {
        twinstack_store::Txn::put(self, key, value);
    }
    fn delete_raw(&mut self, key: &str) -> bool {
        twinstack_store::Txn::delete(self, key).is_some()
    }
    fn scan(&mut self, prefix: &str) -> Vec<(String, Vec<u8>)> {
        twinstack_store::Txn::list(self, prefix)
            .into_iter()
            .map(|kv| (kv.key, kv.value))
            .collect()
    }
    fn revision(&self) -> u64 {
        twinstack_store::Txn::revision(self)
    }
}
