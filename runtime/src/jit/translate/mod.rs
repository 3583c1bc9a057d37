//! wasm → CLIF translation of one function, with `cranelift-frontend`.
//!
//! The translator keeps wasm's operand stack as a stack of SSA values and
//! wasm's control stack as frames holding the CLIF blocks that `br` targets.
//! Locals are frontend variables. `v128` values travel between blocks,
//! locals, globals and calls as `i8x16` and are bitcast to the lane type an
//! operator needs. Code after an unconditional branch is skipped (only its
//! control structure is tracked).
//!
//! Operator families live in submodules: [`control`] (blocks, branches,
//! calls), [`numeric`] (scalar ops, via [`crate::jit::optable`]),
//! [`memory`] (linear memory), [`table`] (tables, references, globals) and
//! [`simd`].

mod control;
mod memory;
mod numeric;
mod simd;
mod table;

use std::collections::HashMap;

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::immediates::Offset32;
use cranelift_codegen::ir::types::{self, Type};
use cranelift_codegen::ir::{
    AbiParam, ArgumentPurpose, Block, BlockArg, Endianness, FuncRef, Function, GlobalValueData,
    InstBuilder, MemFlagsData, SigRef, Signature, TrapCode, Value,
};
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use wasmparser::{BlockType, Operator};

use crate::jit::config::JitConfig;
use crate::jit::traps;
use crate::jit::vmctx::{VMOffsets, header, runtime};
use crate::module::Module;
use crate::values::{FuncType, ValType};

/// Module-level facts the translator needs.
pub(crate) struct ModuleEnv<'a> {
    /// The module.
    pub module: &'a Module,
    /// Its vmctx layout.
    pub offsets: VMOffsets,
    /// The configuration (bounds mode, fault injection).
    pub config: JitConfig,
    /// The target's frontend configuration.
    pub frontend: TargetFrontendConfig,
}

/// The CLIF type carrying a wasm value type.
pub(crate) fn clif_type(t: ValType) -> Type {
    match t {
        ValType::I32 => types::I32,
        ValType::I64 => types::I64,
        ValType::F32 => types::F32,
        ValType::F64 => types::F64,
        ValType::V128 => types::I8X16,
        ValType::FuncRef | ValType::ExternRef => types::I64,
    }
}

/// The CLIF signature of a wasm function of type `ft`: `vmctx` first, tail
/// calling convention.
pub(crate) fn wasm_signature(ft: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .push(AbiParam::special(types::I64, ArgumentPurpose::VMContext));
    sig.params
        .extend(ft.params.iter().map(|&t| AbiParam::new(clif_type(t))));
    sig.returns
        .extend(ft.results.iter().map(|&t| AbiParam::new(clif_type(t))));
    sig
}

/// Kind of a control frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Block,
    Loop,
    If,
    Else,
    Function,
}

/// One entry of the control stack.
#[derive(Debug)]
struct Frame {
    kind: Kind,
    /// Pushed while unreachable: nothing was emitted for it.
    dead: bool,
    /// Loop header (branch target of a loop).
    header: Option<Block>,
    /// Block following the construct (branch target of everything else).
    exit: Block,
    /// An `if`'s not-taken path, until `else` or `end` emits it.
    else_block: Option<Block>,
    params: Vec<ValType>,
    results: Vec<ValType>,
    /// Operand stack height below the frame's parameters.
    height: usize,
    /// Whether anything jumps to `exit`.
    exit_used: bool,
}

impl Frame {
    fn dead() -> Frame {
        Frame {
            kind: Kind::Block,
            dead: true,
            header: None,
            exit: Block::from_u32(0),
            else_block: None,
            params: Vec::new(),
            results: Vec::new(),
            height: 0,
            exit_used: false,
        }
    }

    /// Number of values a branch to this frame carries.
    fn branch_arity(&self) -> usize {
        if self.kind == Kind::Loop {
            self.params.len()
        } else {
            self.results.len()
        }
    }

    /// The block a branch to this frame targets.
    fn branch_target(&self) -> Block {
        self.header.unwrap_or(self.exit)
    }
}

/// Translates one function.
pub(crate) struct FuncTranslator<'a, 'f> {
    b: FunctionBuilder<'f>,
    env: &'a ModuleEnv<'a>,
    vmctx: Value,
    locals: Vec<Variable>,
    local_types: Vec<ValType>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    reachable: bool,
    sigs: HashMap<u32, SigRef>,
    direct: HashMap<u32, FuncRef>,
    libcall_sigs: HashMap<usize, SigRef>,
}

type TResult<T = ()> = Result<T, String>;

fn err(e: wasmparser::BinaryReaderError) -> String {
    e.to_string()
}

/// Translates defined function `def` of `env.module` into `func` (whose
/// signature and name the caller set).
pub(crate) fn translate_function(
    env: &ModuleEnv<'_>,
    def: u32,
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
) -> TResult {
    let module = env.module;
    let ty = module.func_type(module.num_imported_funcs + def).clone();
    let body = module.body(def);
    let b = FunctionBuilder::new(func, fctx);
    let mut t = FuncTranslator {
        b,
        env,
        vmctx: Value::from_u32(0),
        locals: Vec::new(),
        local_types: Vec::new(),
        stack: Vec::new(),
        frames: Vec::new(),
        reachable: true,
        sigs: HashMap::new(),
        direct: HashMap::new(),
        libcall_sigs: HashMap::new(),
    };
    t.prologue(&ty, &body)?;
    let mut ops = body.get_operators_reader().map_err(err)?;
    while !ops.eof() {
        let op = ops.read().map_err(err)?;
        t.op(&op)?;
    }
    if !t.frames.is_empty() {
        return Err("function body ended inside a block".into());
    }
    t.b.finalize(env.frontend);
    Ok(())
}

impl<'a, 'f> FuncTranslator<'a, 'f> {
    /// Entry block, stack limit, locals, call-depth and fuel accounting.
    fn prologue(&mut self, ty: &FuncType, body: &wasmparser::FunctionBody<'_>) -> TResult {
        let entry = self.b.create_block();
        self.b.append_block_params_for_function_params(entry);
        self.b.switch_to_block(entry);
        self.b.seal_block(entry);
        self.vmctx = self.b.block_params(entry)[0];
        self.set_stack_limit();
        let params: Vec<Value> = self.b.block_params(entry)[1..].to_vec();
        for (&t, v) in ty.params.iter().zip(params) {
            let var = self.b.declare_var(clif_type(t));
            self.b.def_var(var, v);
            self.locals.push(var);
            self.local_types.push(t);
        }
        let mut reader = body.get_locals_reader().map_err(err)?;
        for _ in 0..reader.get_count() {
            let (n, t) = reader.read().map_err(err)?;
            let t = ValType::from_wasmparser(t).ok_or("unsupported local type")?;
            for _ in 0..n {
                let var = self.b.declare_var(clif_type(t));
                let zero = self.zero(t);
                self.b.def_var(var, zero);
                self.locals.push(var);
                self.local_types.push(t);
            }
        }
        self.enter_accounting();
        let exit = self.b.create_block();
        for &t in &ty.results {
            self.b.append_block_param(exit, clif_type(t));
        }
        self.frames.push(Frame {
            kind: Kind::Function,
            dead: false,
            header: None,
            exit,
            else_block: None,
            params: Vec::new(),
            results: ty.results.clone(),
            height: 0,
            exit_used: false,
        });
        Ok(())
    }

    /// `func.stack_limit = *(*(vmctx + RUNTIME) + STACK_LIMIT)`.
    fn set_stack_limit(&mut self) {
        let flags = MemFlagsData::trusted().with_readonly();
        let vm = self.b.create_global_value(GlobalValueData::VMContext);
        let flags = self.b.func.dfg.mem_flags.insert_unchecked(flags);
        let rt = self.b.create_global_value(GlobalValueData::Load {
            base: vm,
            offset: Offset32::new(header::RUNTIME),
            global_type: types::I64,
            flags,
        });
        let limit = self.b.create_global_value(GlobalValueData::Load {
            base: rt,
            offset: Offset32::new(runtime::STACK_LIMIT),
            global_type: types::I64,
            flags,
        });
        self.b.func.stack_limit = Some(limit);
    }

    /// Function entry: depth check (before fuel), then one fuel unit.
    fn enter_accounting(&mut self) {
        let rt = self.runtime_ptr();
        let depth = self.b.ins().load(types::I64, trusted(), rt, runtime::DEPTH);
        let one = self.b.ins().iconst(types::I64, 1);
        let depth = self.b.ins().iadd(depth, one);
        let max = self
            .b
            .ins()
            .load(types::I64, trusted(), rt, runtime::MAX_DEPTH);
        let over = self.b.ins().icmp(IntCC::UnsignedGreaterThan, depth, max);
        self.b.ins().trapnz(over, traps::CALL_STACK_EXHAUSTED);
        self.b.ins().store(trusted(), depth, rt, runtime::DEPTH);
        self.charge_fuel_with(rt);
    }

    /// One fuel unit (loop headers).
    fn charge_fuel(&mut self) {
        let rt = self.runtime_ptr();
        self.charge_fuel_with(rt);
    }

    fn charge_fuel_with(&mut self, rt: Value) {
        let fuel = self.b.ins().load(types::I64, trusted(), rt, runtime::FUEL);
        self.b.ins().trapz(fuel, traps::OUT_OF_FUEL);
        let one = self.b.ins().iconst(types::I64, 1);
        let fuel = self.b.ins().isub(fuel, one);
        self.b.ins().store(trusted(), fuel, rt, runtime::FUEL);
    }

    /// Leaving a frame (return or tail call): depth - 1.
    fn leave_accounting(&mut self) {
        let rt = self.runtime_ptr();
        let depth = self.b.ins().load(types::I64, trusted(), rt, runtime::DEPTH);
        let one = self.b.ins().iconst(types::I64, 1);
        let depth = self.b.ins().isub(depth, one);
        self.b.ins().store(trusted(), depth, rt, runtime::DEPTH);
    }

    fn runtime_ptr(&mut self) -> Value {
        self.b
            .ins()
            .load(types::I64, readonly(), self.vmctx, header::RUNTIME)
    }

    /// Loads a pointer-sized vmctx slot (constant after instantiation).
    fn vmctx_slot(&mut self, slot: usize) -> Value {
        self.b
            .ins()
            .load(types::I64, readonly(), self.vmctx, VMOffsets::byte(slot))
    }

    /// The zero value of a type.
    fn zero(&mut self, t: ValType) -> Value {
        match t {
            ValType::I32 => self.b.ins().iconst(types::I32, 0),
            ValType::I64 | ValType::FuncRef | ValType::ExternRef => {
                self.b.ins().iconst(types::I64, 0)
            }
            ValType::F32 => self.b.ins().f32const(0.0),
            ValType::F64 => self.b.ins().f64const(0.0),
            ValType::V128 => self.v128_const(0),
        }
    }

    /// A `v128` constant (as `i8x16`).
    fn v128_const(&mut self, v: u128) -> Value {
        self.vector_const(types::I8X16, v)
    }

    /// A 128-bit vector constant of type `ty`.
    fn vector_const(&mut self, ty: Type, v: u128) -> Value {
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(v.to_le_bytes().to_vec().into());
        self.b.ins().vconst(ty, c)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("validated: operand stack underflow")
    }

    /// Pops `n` values (in push order).
    fn popn(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        self.stack.split_off(at)
    }

    /// The top `n` values, canonicalized for block arguments.
    fn top_args(&mut self, n: usize) -> Vec<Value> {
        let at = self.stack.len() - n;
        let vals: Vec<Value> = self.stack[at..].to_vec();
        vals.into_iter().map(|v| self.canon(v)).collect()
    }

    fn value_type(&self, v: Value) -> Type {
        self.b.func.dfg.value_type(v)
    }

    /// Bitcasts a vector value to `i8x16` (the type `v128` travels in).
    fn canon(&mut self, v: Value) -> Value {
        self.as_type(v, types::I8X16)
    }

    /// Bitcasts a vector value to the vector type `ty`; other values pass.
    fn as_type(&mut self, v: Value, ty: Type) -> Value {
        let vt = self.value_type(v);
        if vt != ty && vt.is_vector() && ty.is_vector() {
            let flags = MemFlagsData::new().with_endianness(Endianness::Little);
            self.b.ins().bitcast(ty, flags, v)
        } else {
            v
        }
    }

    fn pop_as(&mut self, ty: Type) -> Value {
        let v = self.pop();
        self.as_type(v, ty)
    }

    /// Resolves a block type to (params, results).
    fn block_type(&self, bt: BlockType) -> TResult<(Vec<ValType>, Vec<ValType>)> {
        Ok(match bt {
            BlockType::Empty => (Vec::new(), Vec::new()),
            BlockType::Type(t) => (
                Vec::new(),
                vec![ValType::from_wasmparser(t).ok_or("unsupported block type")?],
            ),
            BlockType::FuncType(i) => {
                let ft = self
                    .env
                    .module
                    .types
                    .get(i as usize)
                    .ok_or("bad block type index")?;
                (ft.params.clone(), ft.results.clone())
            }
        })
    }

    /// A block with parameters of the given types.
    fn block_with_params(&mut self, tys: &[ValType]) -> Block {
        let b = self.b.create_block();
        for &t in tys {
            self.b.append_block_param(b, clif_type(t));
        }
        b
    }

    fn jump(&mut self, target: Block, args: &[Value]) {
        let args: Vec<BlockArg> = args.iter().map(|&v| BlockArg::Value(v)).collect();
        self.b.ins().jump(target, &args);
    }

    /// Emits a trap and marks the rest of the block unreachable.
    fn trap(&mut self, code: TrapCode) {
        self.b.ins().trap(code);
        self.reachable = false;
    }

    /// Translates one operator.
    fn op(&mut self, op: &Operator<'_>) -> TResult {
        if !self.reachable {
            return self.unreachable_op(op);
        }
        if self.control_op(op)? {
            return Ok(());
        }
        if self.numeric_op(op)? {
            return Ok(());
        }
        if self.memory_op(op)? {
            return Ok(());
        }
        if self.table_op(op)? {
            return Ok(());
        }
        if self.simd_op(op)? {
            return Ok(());
        }
        Err(format!("unsupported operator {op:?}"))
    }
}

/// Flags for runtime-structure accesses (aligned, never trapping).
pub(crate) fn trusted() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags for vmctx slots, which never change after instantiation.
pub(crate) fn readonly() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly().with_can_move()
}
