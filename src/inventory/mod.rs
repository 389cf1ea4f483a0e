//! The inventory: hosts, groups and their variables, read from Ansible YAML/INI
//! inventories, `group_vars/` and `host_vars/`, and selected by host patterns.
