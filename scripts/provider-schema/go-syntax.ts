/**
 * Just enough of Go's lexical and expression grammar to read schema declarations
 * (`&schema.Resource{...}` literals and the helpers, constants and variables they use).
 * Function bodies are skipped token-wise; anything outside this subset throws with a position,
 * so an unreadable declaration is never silently dropped.
 */

export type TokenKind = "ident" | "int" | "float" | "imag" | "string" | "rune" | "op" | "semi" | "eof";

export interface Token {
  kind: TokenKind;
  /** Source text for idents, numbers and operators; the decoded value for string literals. */
  text: string;
  line: number;
}

export class GoSyntaxError extends Error {}

const OPERATORS = [
  "<<=",
  ">>=",
  "&^=",
  "...",
  "&&",
  "||",
  "<-",
  "++",
  "--",
  "==",
  "!=",
  "<=",
  ">=",
  ":=",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "<<",
  ">>",
  "&^",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "<",
  ">",
  "=",
  "!",
  "(",
  ")",
  "[",
  "]",
  "{",
  "}",
  ",",
  ";",
  ".",
  ":",
  "~",
];

/** Keywords after which a newline does not end the statement (Go spec, "Semicolons"). */
const NON_TERMINATING_KEYWORDS = new Set([
  "case",
  "chan",
  "const",
  "default",
  "defer",
  "else",
  "for",
  "func",
  "go",
  "goto",
  "if",
  "import",
  "interface",
  "map",
  "package",
  "range",
  "select",
  "struct",
  "switch",
  "type",
  "var",
]);

function endsStatement(token: Token): boolean {
  switch (token.kind) {
    case "ident":
      return !NON_TERMINATING_KEYWORDS.has(token.text);
    case "int":
    case "float":
    case "imag":
    case "string":
    case "rune":
      return true;
    case "op":
      return ["++", "--", ")", "]", "}"].includes(token.text);
    default:
      return false;
  }
}

function decodeInterpreted(body: string, file: string, line: number): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      a: "\x07",
      b: "\b",
      f: "\f",
      v: "\v",
      "\\": "\\",
      '"': '"',
      "'": "'",
    };
    if (e in simple) out += simple[e];
    else if (e === "x") {
      out += String.fromCharCode(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === "u") {
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 5), 16));
      i += 4;
    } else if (e === "U") {
      out += String.fromCodePoint(parseInt(body.slice(i + 1, i + 9), 16));
      i += 8;
    } else if (e >= "0" && e <= "7") {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else throw new GoSyntaxError(`${file}:${line}: unknown escape \\${e}`);
  }
  // Go strings are UTF-8 bytes; \x escapes above produced Latin-1 code units, which only matters
  // for non-ASCII escapes, and schema text does not use them.
  return out;
}

export function tokenize(src: string, file: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  const push = (kind: TokenKind, text: string, at: number) => tokens.push({ kind, text, line: at });
  const newline = () => {
    const last = tokens[tokens.length - 1];
    if (last && endsStatement(last)) {
      push("semi", "\n", line);
    }
    line++;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === "\n") {
      newline();
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "/" && src[i + 1] === "/") {
      while (i < src.length && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*") {
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw new GoSyntaxError(`${file}:${line}: unterminated comment`);
      const lines = src.slice(i, end).split("\n").length - 1;
      if (lines > 0) {
        newline();
        line += lines - 1;
      }
      i = end + 2;
    } else if (/[A-Za-z_]/.test(c) || c.charCodeAt(0) > 127) {
      let j = i + 1;
      while (j < src.length && (/[A-Za-z0-9_]/.test(src[j]) || src.charCodeAt(j) > 127)) j++;
      push("ident", src.slice(i, j), line);
      i = j;
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:[0-9][0-9_]*)?(?:\.[0-9_]*)?(?:[eE][+-]?[0-9_]+)?)(i?)/.exec(
        src.slice(i, i + 64),
      );
      if (!m || m[0] === "") throw new GoSyntaxError(`${file}:${line}: bad number`);
      const text = m[1];
      const kind: TokenKind = m[2] ? "imag" : /^0[xXbBoO]/.test(text) || !/[.eE]/.test(text) ? "int" : "float";
      push(kind, text.replace(/_/g, ""), line);
      i += m[0].length;
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === "\\") j++;
        if (src[j] === "\n") throw new GoSyntaxError(`${file}:${line}: newline in string`);
        j++;
      }
      push("string", decodeInterpreted(src.slice(i + 1, j), file, line), line);
      i = j + 1;
    } else if (c === "`") {
      const end = src.indexOf("`", i + 1);
      if (end < 0) throw new GoSyntaxError(`${file}:${line}: unterminated raw string`);
      const body = src.slice(i + 1, end);
      push("string", body.replace(/\r/g, ""), line);
      line += body.split("\n").length - 1;
      i = end + 1;
    } else if (c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== "'") {
        if (src[j] === "\\") j++;
        j++;
      }
      push("rune", decodeInterpreted(src.slice(i + 1, j), file, line), line);
      i = j + 1;
    } else {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      if (!op) throw new GoSyntaxError(`${file}:${line}: unexpected character ${JSON.stringify(c)}`);
      if (op === ";") push("semi", ";", line);
      else push("op", op, line);
      i += op.length;
    }
  }
  newline();
  push("eof", "", line);
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type TypeExpr =
  | { t: "name"; pkg?: string; name: string }
  | { t: "ptr"; elem: TypeExpr }
  | { t: "slice"; elem: TypeExpr }
  | { t: "array"; elem: TypeExpr }
  | { t: "map"; key: TypeExpr; elem: TypeExpr }
  | { t: "opaque"; what: string };

export interface Where {
  file: string;
  line: number;
}

export type Expr = Where &
  (
    | { k: "string"; value: string }
    | { k: "int"; value: number }
    | { k: "float"; value: number }
    | { k: "rune"; value: string }
    | { k: "ident"; name: string }
    | { k: "selector"; x: Expr; name: string }
    | { k: "call"; fn: Expr; args: Expr[] }
    | { k: "index"; x: Expr; index: Expr }
    | { k: "unary"; op: string; x: Expr }
    | { k: "binary"; op: string; x: Expr; y: Expr }
    | { k: "composite"; type: TypeExpr | null; elts: { key?: Expr; value: Expr }[] }
    | { k: "type"; type: TypeExpr }
    | { k: "funclit" }
    | { k: "opaque"; what: string }
  );

const BINARY_PRECEDENCE: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 3,
  "<=": 3,
  ">": 3,
  ">=": 3,
  "+": 4,
  "-": 4,
  "|": 4,
  "^": 4,
  "*": 5,
  "/": 5,
  "%": 5,
  "<<": 5,
  ">>": 5,
  "&": 5,
  "&^": 5,
};

/** A cursor over one file's tokens. */
export class Parser {
  constructor(
    readonly tokens: Token[],
    readonly file: string,
    public pos = 0,
  ) {}

  get peek(): Token {
    return this.tokens[this.pos];
  }

  where(): Where {
    return { file: this.file, line: this.peek.line };
  }

  fail(message: string): never {
    throw new GoSyntaxError(`${this.file}:${this.peek.line}: ${message} (at ${JSON.stringify(this.peek.text)})`);
  }

  isOp(text: string): boolean {
    return this.peek.kind === "op" && this.peek.text === text;
  }

  isIdent(text?: string): boolean {
    return this.peek.kind === "ident" && (text === undefined || this.peek.text === text);
  }

  next(): Token {
    return this.tokens[this.pos++];
  }

  expectOp(text: string): void {
    if (!this.isOp(text)) this.fail(`expected ${text}`);
    this.pos++;
  }

  expectIdent(): string {
    if (this.peek.kind !== "ident") this.fail("expected identifier");
    return this.next().text;
  }

  skipSemis(): void {
    while (this.peek.kind === "semi") this.pos++;
  }

  /** Skips a balanced (), [] or {} group starting at the current opening token. */
  skipGroup(): void {
    const open = this.peek.text;
    const close = { "(": ")", "[": "]", "{": "}" }[open];
    if (!close || this.peek.kind !== "op") this.fail("expected an opening bracket");
    let depth = 0;
    do {
      const t = this.next();
      if (t.kind === "eof") this.fail(`unbalanced ${open}`);
      if (t.kind === "op" && ["(", "[", "{"].includes(t.text)) depth++;
      if (t.kind === "op" && [")", "]", "}"].includes(t.text)) depth--;
    } while (depth > 0);
  }

  parseType(): TypeExpr {
    const t = this.peek;
    if (t.kind === "op" && t.text === "*") {
      this.pos++;
      return { t: "ptr", elem: this.parseType() };
    }
    if (t.kind === "op" && t.text === "(") {
      this.pos++;
      const inner = this.parseType();
      this.expectOp(")");
      return inner;
    }
    if (t.kind === "op" && t.text === "[") {
      this.pos++;
      if (this.isOp("]")) {
        this.pos++;
        return { t: "slice", elem: this.parseType() };
      }
      this.parseExpr();
      this.expectOp("]");
      return { t: "array", elem: this.parseType() };
    }
    if (t.kind !== "ident") this.fail("expected a type");
    switch (t.text) {
      case "map": {
        this.pos++;
        this.expectOp("[");
        const key = this.parseType();
        this.expectOp("]");
        return { t: "map", key, elem: this.parseType() };
      }
      case "interface":
      case "struct":
        this.pos++;
        this.skipGroup();
        return { t: "opaque", what: t.text };
      case "chan":
        this.pos++;
        return { t: "opaque", what: `chan ${JSON.stringify(this.parseType())}` };
      case "func":
        this.pos++;
        this.skipSignature();
        return { t: "opaque", what: "func" };
    }
    this.pos++;
    if (this.isOp(".")) {
      this.pos++;
      return { t: "name", pkg: t.text, name: this.expectIdent() };
    }
    return { t: "name", name: t.text };
  }

  /** Skips `(params) results` of a func type or declaration, leaving the cursor on what follows. */
  skipSignature(): void {
    this.skipGroup();
    if (this.isOp("(")) this.skipGroup();
    else if (!this.isOp("{") && this.peek.kind !== "semi" && !this.isOp(",") && !this.isOp(")") && !this.isOp("}")) this.parseType();
  }

  parseExpr(minPrec = 1): Expr {
    let x = this.parseUnary();
    for (;;) {
      const t = this.peek;
      const prec = t.kind === "op" ? BINARY_PRECEDENCE[t.text] : undefined;
      if (prec === undefined || prec < minPrec) return x;
      const where = this.where();
      this.pos++;
      const y = this.parseExpr(prec + 1);
      x = { ...where, k: "binary", op: t.text, x, y };
    }
  }

  parseUnary(): Expr {
    const t = this.peek;
    if (t.kind === "op" && ["+", "-", "!", "^", "*", "&", "<-"].includes(t.text)) {
      const where = this.where();
      this.pos++;
      return { ...where, k: "unary", op: t.text, x: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  parseOperand(): Expr {
    const where = this.where();
    const t = this.peek;
    switch (t.kind) {
      case "string":
        this.pos++;
        return { ...where, k: "string", value: t.text };
      case "int":
        this.pos++;
        return { ...where, k: "int", value: Number(t.text.replace(/^0([0-7]+)$/, "0o$1")) };
      case "float":
        this.pos++;
        return { ...where, k: "float", value: Number(t.text) };
      case "rune":
        this.pos++;
        return { ...where, k: "rune", value: t.text };
      case "imag":
        this.pos++;
        return { ...where, k: "opaque", what: "imaginary literal" };
      case "op":
        if (t.text === "(") {
          this.pos++;
          const x = this.parseExpr();
          this.expectOp(")");
          return x;
        }
        if (t.text === "[") return { ...where, k: "type", type: this.parseType() };
        if (t.text === "{") return this.parseCompositeBody(null, where);
        break;
      case "ident":
        if (t.text === "func") {
          this.pos++;
          this.skipSignature();
          if (this.isOp("{")) {
            this.skipGroup();
            return { ...where, k: "funclit" };
          }
          return { ...where, k: "type", type: { t: "opaque", what: "func" } };
        }
        if (["map", "interface", "struct", "chan"].includes(t.text)) return { ...where, k: "type", type: this.parseType() };
        this.pos++;
        return { ...where, k: "ident", name: t.text };
      default: // ";" or the end of the file: no operand here
        break;
    }
    return this.fail("expected an expression");
  }

  parsePrimary(): Expr {
    let x = this.parseOperand();
    for (;;) {
      const where = this.where();
      if (this.isOp(".")) {
        this.pos++;
        if (this.isOp("(")) {
          this.skipGroup();
          x = { ...where, k: "opaque", what: "type assertion" };
        } else x = { ...where, k: "selector", x, name: this.expectIdent() };
      } else if (this.isOp("(")) {
        this.pos++;
        const args: Expr[] = [];
        while (!this.isOp(")")) {
          args.push(this.parseExpr());
          if (this.isOp("...")) this.pos++;
          if (this.isOp(",")) this.pos++;
          else if (this.peek.kind === "semi") this.pos++;
          else if (!this.isOp(")")) this.fail("expected , or ) in call");
        }
        this.pos++;
        x = { ...where, k: "call", fn: x, args };
      } else if (this.isOp("[")) {
        this.pos++;
        const index = this.isOp(":") ? ({ ...where, k: "opaque", what: "slice" } as Expr) : this.parseExpr();
        if (this.isOp(":")) {
          while (!this.isOp("]")) this.pos++;
          this.pos++;
          x = { ...where, k: "opaque", what: "slice expression" };
        } else {
          this.expectOp("]");
          x = { ...where, k: "index", x, index };
        }
      } else if (this.isOp("{") && this.isTypeLike(x)) {
        x = this.parseCompositeBody(this.asType(x), where);
      } else return x;
    }
  }

  private isTypeLike(x: Expr): boolean {
    return x.k === "type" || x.k === "ident" || (x.k === "selector" && x.x.k === "ident");
  }

  private asType(x: Expr): TypeExpr {
    if (x.k === "type") return x.type;
    if (x.k === "ident") return { t: "name", name: x.name };
    if (x.k === "selector" && x.x.k === "ident") return { t: "name", pkg: x.x.name, name: x.name };
    return this.fail("composite literal with a non-type");
  }

  private parseCompositeBody(type: TypeExpr | null, where: Where): Expr {
    this.expectOp("{");
    const elts: { key?: Expr; value: Expr }[] = [];
    for (;;) {
      this.skipSemis();
      if (this.isOp("}")) break;
      const first = this.isOp("{") ? this.parseCompositeBody(null, this.where()) : this.parseExpr();
      if (this.isOp(":")) {
        this.pos++;
        const value = this.isOp("{") ? this.parseCompositeBody(null, this.where()) : this.parseExpr();
        elts.push({ key: first, value });
      } else elts.push({ value: first });
      this.skipSemis();
      if (this.isOp(",")) this.pos++;
      else if (!this.isOp("}")) this.fail("expected , or } in composite literal");
    }
    this.pos++;
    return { ...where, k: "composite", type, elts };
  }
}
