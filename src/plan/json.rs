//! PLACEHOLDER — the JSON tree reader (duplicate keys, exact number text).
