//! Wasm test cases and the `shoal.invocations` custom section.
//!
//! A serialized [`WasmCase`] is the module binary followed by one custom
//! section named [`INVOCATIONS_SECTION`]. Engines ignore custom sections, so
//! the file is an ordinary `.wasm`. The section payload (version 1) is:
//!
//! ```text
//! payload    := version:u8(=1) count:uleb32 invocation*count
//! invocation := name_len:uleb32 name:utf8 nargs:uleb32 arg*nargs
//! arg        := 0x7f sleb32            ; i32
//!             | 0x7e sleb64            ; i64
//!             | 0x7d bits:u32le        ; f32 (raw bits, NaN payloads kept)
//!             | 0x7c bits:u64le        ; f64
//!             | 0x7b bits:u128le       ; v128 (lane 0 in the low bytes)
//!             | 0x70 ref               ; funcref (a store function address)
//!             | 0x6f ref               ; externref (a host-chosen number)
//! ref        := 0x00                   ; null
//!             | 0x01 value:uleb32
//! ```
//!
//! Value tags are the wasm binary encodings of the value types. Invocations
//! run in order against one instance, so state carries over between them.
//! A module without the section is a valid case with no invocations.

use shoal_runtime::Value;

use super::FormatError;

/// Name of the custom section holding the invocations.
pub const INVOCATIONS_SECTION: &str = "shoal.invocations";
/// Version byte of the invocations payload this code reads and writes.
pub const INVOCATIONS_VERSION: u8 = 1;
/// The wasm binary magic and version 1 preamble.
pub const WASM_MAGIC: &[u8] = b"\0asm";
const WASM_PREAMBLE: [u8; 8] = [0, b'a', b's', b'm', 1, 0, 0, 0];

/// One call to make: an exported function and its arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Invocation {
    /// Export name of the function.
    pub export: String,
    /// Arguments, one per parameter.
    pub args: Vec<Value>,
}

/// A wasm module plus the invocations to make, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmCase {
    /// The module binary, without an invocations section.
    pub module: Vec<u8>,
    /// Calls to make after instantiation, in order.
    pub invocations: Vec<Invocation>,
}

impl WasmCase {
    /// The serialized form: the module followed by the invocations section.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        write_invocations(&mut payload, &self.invocations);
        let mut section = Vec::new();
        write_name(&mut section, INVOCATIONS_SECTION);
        section.extend_from_slice(&payload);
        let mut out = self.module.clone();
        out.push(0); // custom section id
        write_uleb(&mut out, section.len() as u64);
        out.extend_from_slice(&section);
        out
    }

    /// Parses a serialized case: splits off the invocations section (at most
    /// one) and keeps every other section verbatim. The module itself is not
    /// validated here; engines do that.
    pub fn from_bytes(bytes: &[u8]) -> Result<WasmCase, FormatError> {
        if bytes.len() < 8 || bytes[..8] != WASM_PREAMBLE {
            return Err(wasm_err(0, "not a core wasm module (bad magic or version)"));
        }
        let mut module = bytes[..8].to_vec();
        let mut invocations = None;
        let mut r = Reader::new(bytes, 8);
        while !r.at_end() {
            let start = r.pos;
            let id = r.u8()?;
            let size = r.uleb32()? as usize;
            let body = r.take(size)?;
            let body_start = r.pos - size;
            if id == 0 {
                let mut s = Reader::new(bytes, body_start);
                s.end = body_start + size;
                let name = s.name()?;
                if name == INVOCATIONS_SECTION {
                    if invocations.is_some() {
                        return Err(wasm_err(start, "duplicate invocations section"));
                    }
                    invocations = Some(read_invocations(&mut s)?);
                    continue;
                }
            }
            let _ = body;
            module.extend_from_slice(&bytes[start..r.pos]);
        }
        Ok(WasmCase {
            module,
            invocations: invocations.unwrap_or_default(),
        })
    }
}

fn wasm_err(offset: usize, message: impl Into<String>) -> FormatError {
    FormatError::Wasm {
        offset,
        message: message.into(),
    }
}

fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        if done {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn write_name(out: &mut Vec<u8>, name: &str) {
    write_uleb(out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
}

fn write_invocations(out: &mut Vec<u8>, invocations: &[Invocation]) {
    out.push(INVOCATIONS_VERSION);
    write_uleb(out, invocations.len() as u64);
    for inv in invocations {
        write_name(out, &inv.export);
        write_uleb(out, inv.args.len() as u64);
        for arg in &inv.args {
            write_value(out, arg);
        }
    }
}

fn write_ref(out: &mut Vec<u8>, r: Option<u32>) {
    match r {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            write_uleb(out, u64::from(v));
        }
    }
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match *v {
        Value::I32(x) => {
            out.push(0x7f);
            write_sleb(out, i64::from(x));
        }
        Value::I64(x) => {
            out.push(0x7e);
            write_sleb(out, x);
        }
        Value::F32(b) => {
            out.push(0x7d);
            out.extend_from_slice(&b.to_le_bytes());
        }
        Value::F64(b) => {
            out.push(0x7c);
            out.extend_from_slice(&b.to_le_bytes());
        }
        Value::V128(b) => {
            out.push(0x7b);
            out.extend_from_slice(&b.to_le_bytes());
        }
        Value::FuncRef(r) => {
            out.push(0x70);
            write_ref(out, r);
        }
        Value::ExternRef(r) => {
            out.push(0x6f);
            write_ref(out, r);
        }
    }
}

/// A bounds-checked cursor reporting errors with absolute offsets.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], pos: usize) -> Self {
        Reader {
            bytes,
            pos,
            end: bytes.len(),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    fn u8(&mut self) -> Result<u8, FormatError> {
        if self.pos >= self.end {
            return Err(wasm_err(self.pos, "unexpected end of data"));
        }
        let b = self.bytes[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], FormatError> {
        if self.end - self.pos < n {
            return Err(wasm_err(
                self.pos,
                format!("{n} bytes announced, {} available", self.end - self.pos),
            ));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn uleb(&mut self, bits: u32) -> Result<u64, FormatError> {
        let start = self.pos;
        let mut result = 0u64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= bits || (bits - shift < 7 && u32::from(b & 0x7f) >> (bits - shift) != 0) {
                return Err(wasm_err(
                    start,
                    format!("unsigned LEB128 exceeds {bits} bits"),
                ));
            }
            result |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                return Ok(result);
            }
        }
    }

    fn uleb32(&mut self) -> Result<u32, FormatError> {
        Ok(self.uleb(32)? as u32)
    }

    fn sleb(&mut self, bits: u32) -> Result<i64, FormatError> {
        let start = self.pos;
        let mut result = 0i64;
        let mut shift = 0u32;
        loop {
            let b = self.u8()?;
            if shift >= bits {
                return Err(wasm_err(
                    start,
                    format!("signed LEB128 exceeds {bits} bits"),
                ));
            }
            result |= i64::from(b & 0x7f) << shift;
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    result |= -1i64 << shift;
                }
                let fits = bits == 64 || (result >> (bits - 1) == 0 || result >> (bits - 1) == -1);
                if !fits {
                    return Err(wasm_err(
                        start,
                        format!("signed LEB128 exceeds {bits} bits"),
                    ));
                }
                return Ok(result);
            }
        }
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], FormatError> {
        let s = self.take(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn name(&mut self) -> Result<String, FormatError> {
        let len = self.uleb32()? as usize;
        let at = self.pos;
        let raw = self.take(len)?;
        String::from_utf8(raw.to_vec()).map_err(|_| wasm_err(at, "name is not UTF-8"))
    }

    fn reference(&mut self) -> Result<Option<u32>, FormatError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(None),
            1 => Ok(Some(self.uleb32()?)),
            t => Err(wasm_err(at, format!("bad reference tag 0x{t:02x}"))),
        }
    }

    fn value(&mut self) -> Result<Value, FormatError> {
        let at = self.pos;
        Ok(match self.u8()? {
            0x7f => Value::I32(self.sleb(32)? as i32),
            0x7e => Value::I64(self.sleb(64)?),
            0x7d => Value::F32(u32::from_le_bytes(self.array()?)),
            0x7c => Value::F64(u64::from_le_bytes(self.array()?)),
            0x7b => Value::V128(u128::from_le_bytes(self.array()?)),
            0x70 => Value::FuncRef(self.reference()?),
            0x6f => Value::ExternRef(self.reference()?),
            t => return Err(wasm_err(at, format!("bad value type tag 0x{t:02x}"))),
        })
    }
}

fn read_invocations(r: &mut Reader<'_>) -> Result<Vec<Invocation>, FormatError> {
    let at = r.pos;
    let version = r.u8()?;
    if version != INVOCATIONS_VERSION {
        return Err(wasm_err(
            at,
            format!("unsupported invocations section version {version}"),
        ));
    }
    let count = r.uleb32()?;
    // Every invocation takes at least two bytes: bound the allocation.
    let mut out = Vec::with_capacity((count as usize).min(r.end.saturating_sub(r.pos) / 2));
    for _ in 0..count {
        let export = r.name()?;
        let nargs = r.uleb32()?;
        let mut args = Vec::with_capacity((nargs as usize).min(r.end.saturating_sub(r.pos)));
        for _ in 0..nargs {
            args.push(r.value()?);
        }
        out.push(Invocation { export, args });
    }
    if !r.at_end() {
        return Err(wasm_err(r.pos, "trailing bytes in invocations section"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_module() -> Vec<u8> {
        WASM_PREAMBLE.to_vec()
    }

    fn sample() -> WasmCase {
        WasmCase {
            module: empty_module(),
            invocations: vec![
                Invocation {
                    export: "f0".into(),
                    args: vec![
                        Value::I32(i32::MIN),
                        Value::I64(-1),
                        Value::I64(i64::MAX),
                        Value::F32(0x7fc0_0001),
                        Value::F64(0xfff8_0000_0000_0042),
                        Value::V128(u128::MAX - 5),
                        Value::FuncRef(None),
                        Value::FuncRef(Some(3)),
                        Value::ExternRef(Some(u32::MAX)),
                        Value::ExternRef(None),
                    ],
                },
                Invocation {
                    export: "ünïcode".into(),
                    args: vec![],
                },
            ],
        }
    }

    #[test]
    fn round_trips_exactly() {
        let case = sample();
        let bytes = case.to_bytes();
        let back = WasmCase::from_bytes(&bytes).unwrap();
        assert_eq!(back, case);
        assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn leb_round_trips_at_edges() {
        for v in [
            0i64,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            i64::from(i32::MIN),
            i64::MIN,
            i64::MAX,
        ] {
            let mut out = Vec::new();
            write_sleb(&mut out, v);
            let mut r = Reader::new(&out, 0);
            assert_eq!(r.sleb(64).unwrap(), v);
            assert!(r.at_end());
        }
        let mut out = Vec::new();
        write_sleb(&mut out, i64::from(i32::MAX) + 1);
        assert!(Reader::new(&out, 0).sleb(32).is_err());
    }

    #[test]
    fn module_without_section_has_no_invocations() {
        let case = WasmCase::from_bytes(&empty_module()).unwrap();
        assert!(case.invocations.is_empty());
    }

    #[test]
    fn other_custom_sections_are_kept() {
        let mut module = empty_module();
        module.extend_from_slice(&[0, 4, 3, b'a', b'b', b'c']);
        let case = WasmCase {
            module: module.clone(),
            invocations: vec![],
        };
        assert_eq!(
            WasmCase::from_bytes(&case.to_bytes()).unwrap().module,
            module
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = sample().to_bytes();
        for len in 9..bytes.len() {
            let r = WasmCase::from_bytes(&bytes[..len]);
            assert!(r.is_err(), "truncation at {len} accepted");
        }
    }

    #[test]
    fn corrupt_sections_are_errors() {
        let mut twice = sample().to_bytes();
        let section = twice[8..].to_vec();
        twice.extend_from_slice(&section);
        assert!(WasmCase::from_bytes(&twice).is_err());

        let mut bad_version = sample().to_bytes();
        let name = INVOCATIONS_SECTION.as_bytes();
        let at = bad_version
            .windows(name.len())
            .position(|w| w == name)
            .unwrap()
            + name.len();
        bad_version[at] = 9;
        assert!(WasmCase::from_bytes(&bad_version).is_err());
        assert!(WasmCase::from_bytes(b"\0asm\x0d\0\x01\0").is_err());
    }
}
