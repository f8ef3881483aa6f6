/**
 * Indexes one Go package's top-level declarations (funcs, vars, consts, types) from its source,
 * read either from a checkout directory or from a git repository at a given revision.
 * Declarations are recorded as token positions and parsed only when the schema reader needs them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Expr, GoSyntaxError, Parser, Token, tokenize } from "./go-syntax";

export interface ProviderSource {
  /** A checkout of the provider repository, or a git directory (bare or not) read at `rev`. */
  path: string;
  rev?: string;
}

/** Reads `<dir>/*.go` (one package: no subdirectories, no tests) from a checkout or a git revision. */
export function readPackageFiles(source: ProviderSource, dir: string): Map<string, string> {
  const isPackageFile = (name: string) => name.endsWith(".go") && !name.endsWith("_test.go");
  const files = new Map<string, string>();
  if (source.rev === undefined) {
    const root = join(source.path, dir);
    if (!existsSync(root)) throw new Error(`${root} does not exist: pass a provider checkout, or a git directory with --rev`);
    for (const name of readdirSync(root).filter(isPackageFile).sort()) files.set(`${dir}/${name}`, readFileSync(join(root, name), "utf8"));
    return files;
  }
  const git = (args: string[], input?: string) => execFileSync("git", ["-C", source.path, ...args], { input, maxBuffer: 1 << 30 });
  const listing = git(["ls-tree", source.rev, `${dir}/`])
    .toString("utf8")
    .trim()
    .split("\n");
  const blobs: { path: string; sha: string }[] = [];
  for (const row of listing) {
    const [meta, path] = row.split("\t");
    const [, kind, sha] = meta.split(" ");
    if (kind === "blob" && isPackageFile(path)) blobs.push({ path, sha });
  }
  if (blobs.length === 0) throw new Error(`no Go files under ${dir}/ at ${source.rev} in ${source.path}`);
  // One `git cat-file --batch` call reads every blob: "<sha> blob <size>\n<content>\n" per object.
  const out = git(["cat-file", "--batch"], blobs.map((b) => b.sha).join("\n") + "\n");
  let offset = 0;
  for (const blob of blobs) {
    const headerEnd = out.indexOf(10, offset);
    const size = Number(out.toString("utf8", offset, headerEnd).split(" ")[2]);
    files.set(blob.path, out.toString("utf8", headerEnd + 1, headerEnd + 1 + size));
    offset = headerEnd + 1 + size + 1;
  }
  return files;
}

export interface FuncDecl {
  name: string;
  file: string;
  tokens: Token[];
  params: string[];
  /** Index of the body's opening brace, or -1 for a declaration without body. */
  body: number;
}

/** Where an expression that gives a package-level name its value starts. */
export interface ValueSite {
  file: string;
  tokens: Token[];
  /** Token index of the expression list after `=`. */
  start: number;
  /** Position of this name's expression in that list. */
  ordinal: number;
}

export class GoPackage {
  readonly funcs = new Map<string, FuncDecl>();
  readonly values = new Map<string, ValueSite | null>();
  readonly types = new Set<string>();
  /** `name = expr` assignments found in `func init()` bodies. */
  readonly initAssignments = new Map<string, ValueSite>();

  constructor(files: Map<string, string>) {
    for (const [file, text] of files) this.indexFile(file, tokenize(text, file));
  }

  /** Parses the value expression of a package-level var or const. */
  valueExpr(name: string): Expr | undefined {
    const site = this.values.get(name) ?? this.initAssignments.get(name);
    if (!site) return undefined;
    const p = new Parser(site.tokens, site.file, site.start);
    let expr = p.parseExpr();
    for (let i = 0; i < site.ordinal; i++) {
      p.expectOp(",");
      expr = p.parseExpr();
    }
    return expr;
  }

  /** The single `return <expr>` of a function body; anything else is outside what we read. */
  returnExpr(fn: FuncDecl): Expr {
    if (fn.body < 0) throw new GoSyntaxError(`${fn.file}: func ${fn.name} has no body`);
    const p = new Parser(fn.tokens, fn.file, fn.body + 1);
    p.skipSemis();
    if (!p.isIdent("return")) p.fail(`func ${fn.name}: only a body that is a single return statement is understood`);
    p.next();
    const expr = p.parseExpr();
    p.skipSemis();
    if (!p.isOp("}")) p.fail(`func ${fn.name}: statements after the return are not understood`);
    return expr;
  }

  private indexFile(file: string, tokens: Token[]): void {
    const p = new Parser(tokens, file);
    while (p.peek.kind !== "eof") {
      p.skipSemis();
      const t = p.next();
      if (t.kind === "eof") break;
      if (t.kind !== "ident") p.fail("expected a top-level declaration");
      switch (t.text) {
        case "package":
          p.expectIdent();
          break;
        case "import":
          if (p.isOp("(")) p.skipGroup();
          else {
            if (p.peek.kind === "ident" || p.isOp(".")) p.next();
            p.next();
          }
          break;
        case "func":
          this.indexFunc(p, file, tokens);
          break;
        case "var":
        case "const":
          if (p.isOp("(")) {
            p.next();
            for (p.skipSemis(); !p.isOp(")"); p.skipSemis()) this.indexValueSpec(p, file, tokens);
            p.next();
          } else this.indexValueSpec(p, file, tokens);
          break;
        case "type":
          if (p.isOp("(")) {
            p.next();
            for (p.skipSemis(); !p.isOp(")"); p.skipSemis()) {
              this.types.add(p.expectIdent());
              this.skipToSpecEnd(p);
            }
            p.next();
          } else {
            this.types.add(p.expectIdent());
            this.skipToSpecEnd(p);
          }
          break;
        default:
          p.fail("unexpected top-level token");
      }
    }
  }

  private indexFunc(p: Parser, file: string, tokens: Token[]): void {
    const isMethod = p.isOp("(");
    if (isMethod) p.skipGroup();
    const name = p.expectIdent();
    if (p.isOp("[")) p.skipGroup();
    const params = this.paramNames(p);
    p.skipSignature();
    let body = -1;
    if (p.isOp("{")) {
      body = p.pos;
      p.skipGroup();
    }
    if (isMethod) return;
    const decl: FuncDecl = { name, file, tokens, params, body };
    if (name === "init") this.indexInitAssignments(decl);
    else this.funcs.set(name, decl);
  }

  /** Parameter names of `(a, b string, c *T)`; the cursor stays on the opening parenthesis. */
  private paramNames(p: Parser): string[] {
    const names: string[] = [];
    let depth = 0;
    let segmentStart = true;
    for (let i = p.pos; ; i++) {
      const t = p.tokens[i];
      if (t.kind === "op" && ["(", "[", "{"].includes(t.text)) {
        depth++;
        continue;
      }
      if (t.kind === "op" && [")", "]", "}"].includes(t.text)) {
        if (--depth === 0) break;
        continue;
      }
      if (depth === 1 && t.kind === "op" && t.text === ",") {
        segmentStart = true;
        continue;
      }
      if (depth === 1 && segmentStart && t.kind === "ident") names.push(t.text);
      segmentStart = false;
    }
    return names;
  }

  private indexValueSpec(p: Parser, file: string, tokens: Token[]): void {
    const names = [p.expectIdent()];
    while (p.isOp(",")) {
      p.next();
      names.push(p.expectIdent());
    }
    while (!p.isOp("=") && p.peek.kind !== "semi" && !p.isOp(")")) {
      if (p.isOp("(") || p.isOp("[") || p.isOp("{")) p.skipGroup();
      else p.next();
    }
    if (p.isOp("=")) {
      p.next();
      const start = p.pos;
      names.forEach((name, ordinal) => this.values.set(name, { file, tokens, start, ordinal }));
    } else names.forEach((name) => this.values.set(name, null));
    this.skipToSpecEnd(p);
  }

  /** Moves to the semicolon (or group-closing parenthesis) that ends the current spec. */
  private skipToSpecEnd(p: Parser): void {
    while (p.peek.kind !== "semi" && !p.isOp(")") && p.peek.kind !== "eof") {
      if (p.isOp("(") || p.isOp("[") || p.isOp("{")) p.skipGroup();
      else p.next();
    }
  }

  private indexInitAssignments(fn: FuncDecl): void {
    let depth = 0;
    for (let i = fn.body; i < fn.tokens.length; i++) {
      const t = fn.tokens[i];
      if (t.kind === "op" && ["(", "[", "{"].includes(t.text)) depth++;
      if (t.kind === "op" && [")", "]", "}"].includes(t.text) && --depth === 0) break;
      const prev = fn.tokens[i - 1];
      const next = fn.tokens[i + 1];
      const atStatementStart = prev.kind === "semi" || (prev.kind === "op" && prev.text === "{" && i - 1 === fn.body);
      if (depth === 1 && atStatementStart && t.kind === "ident" && next.kind === "op" && next.text === "=") {
        this.initAssignments.set(t.text, { file: fn.file, tokens: fn.tokens, start: i + 2, ordinal: 0 });
      }
    }
  }
}
