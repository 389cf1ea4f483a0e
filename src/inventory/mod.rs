//! The inventory: hosts, groups and their variables, read from Ansible YAML/INI
//! inventories, `group_vars/` and `host_vars/`, and selected by host patterns.
// TEMPORARY STUB (replaced by the inventory branch)
use indexmap::IndexMap;
use serde_json::Value;
pub struct Host;
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
}
impl Inventory {
    pub fn load(_s: &[String]) -> Result<Inventory, crate::error::Error> {
        Ok(Inventory {
            hosts: IndexMap::new(),
        })
    }
    pub fn host_vars(&self, _h: &str) -> IndexMap<String, Value> {
        IndexMap::new()
    }
    pub fn select(&self, _p: &str) -> Result<Vec<String>, crate::error::Error> {
        Ok(vec![])
    }
    pub fn list_json(&self) -> Value {
        Value::Null
    }
    pub fn graph(&self, _g: Option<&str>) -> String {
        String::new()
    }
    pub fn host_json(&self, _h: &str) -> Result<Value, crate::error::Error> {
        Ok(Value::Null)
    }
}
