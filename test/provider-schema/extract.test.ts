import { readFileSync } from "node:fs";
import { SCHEMA_FILE, SUBSET_FILE, extractSchema } from "../../scripts/provider-schema/extract";
import { GoPackage } from "../../scripts/provider-schema/go-package";
import { SchemaReader, providerSchemaJson, resourceSchemaJson } from "../../scripts/provider-schema/sdk-schema";

/** A miniature provider package exercising each SDK v1 lowering rule. */
const FIXTURE = `package alicloud

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/helper/schema"
)

type MaxItems int

const MaxRules = MaxItems(3)

var descriptions map[string]string

func init() {
	descriptions = map[string]string{"region": "Where to work."}
}

func tagsSchema() *schema.Schema {
	return &schema.Schema{Type: schema.TypeMap, Optional: true}
}

func namedSchema(description string) *schema.Schema {
	return &schema.Schema{Type: schema.TypeString, Optional: true, Description: description}
}

func Provider() *schema.Provider {
	provider := &schema.Provider{
		Schema: map[string]*schema.Schema{
			"region": {
				Type:        schema.TypeString,
				Optional:    true,
				Description: descriptions["region"],
			},
			"role_arn": {
				Type:        schema.TypeString,
				Required:    true,
				DefaultFunc: schema.EnvDefaultFunc("ROLE_ARN", ""),
			},
			"token": {
				Type:        schema.TypeString,
				Required:    true,
				DefaultFunc: schema.MultiEnvDefaultFunc([]string{"TOKEN"}, nil),
			},
		},
		ResourcesMap: map[string]*schema.Resource{
			"alicloud_thing": resourceThing(),
		},
		DataSourcesMap: map[string]*schema.Resource{},
	}
	provider.ConfigureFunc = nil
	return provider
}

func resourceThing() *schema.Resource {
	return &schema.Resource{
		Create:        nil,
		SchemaVersion: 1,
		Timeouts: &schema.ResourceTimeout{
			Create: schema.DefaultTimeout(5 * time.Minute),
			Delete: schema.DefaultTimeout(5 * time.Minute),
		},
		Schema: map[string]*schema.Schema{
			"name": {
				Type:       schema.TypeString,
				Optional:   true,
				Deprecated: fmt.Sprintf("use %s instead", "thing_name"),
				ForceNew:   true,
				ValidateFunc: func(v interface{}, k string) ([]string, []error) {
					return nil, nil
				},
			},
			"thing_name": namedSchema("The " + "name."),
			"secret":     {Type: schema.TypeString, Optional: true, Sensitive: true},
			"ports":      {Type: schema.TypeList, Optional: true, Elem: schema.TypeInt},
			"labels":     {Type: schema.TypeList, Optional: true},
			"tags":       tagsSchema(),
			"odd_map": {
				Type:     schema.TypeMap,
				Optional: true,
				Elem:     &schema.Resource{Schema: map[string]*schema.Schema{"x": {Type: schema.TypeInt, Optional: true}}},
			},
			"rules": {
				Type:     schema.TypeSet,
				Required: true,
				MaxItems: int(MaxRules),
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"port": {Type: schema.TypeInt, Required: true},
					},
				},
			},
			"options": {
				Type:     schema.TypeList,
				Optional: true,
				MinItems: 2,
				Elem:     &schema.Resource{Schema: map[string]*schema.Schema{}},
			},
			"endpoints": {
				Type:     schema.TypeList,
				Computed: true,
				Elem: &schema.Resource{
					Schema: map[string]*schema.Schema{
						"address": {Type: schema.TypeString, Computed: true},
						"ports":   {Type: schema.TypeSet, Computed: true, Elem: &schema.Schema{Type: schema.TypeInt}},
					},
				},
			},
			"as_attribute": {
				Type:       schema.TypeList,
				Optional:   true,
				ConfigMode: schema.SchemaConfigModeAttr,
				Elem:       &schema.Resource{Schema: map[string]*schema.Schema{"v": {Type: schema.TypeBool, Optional: true}}},
			},
		},
	}
}
`;

function readFixture(source: string) {
  const reader = new SchemaReader(new GoPackage(new Map([["alicloud/fixture.go", source]])));
  const provider = reader.readProvider("Provider");
  return { provider, thing: () => resourceSchemaJson(reader.readResource(provider.resources.get("alicloud_thing")!, null)) };
}

const plain = { description_kind: "plain" } as const;

describe("schema extraction (terraform-plugin-sdk v1 core_schema rules)", () => {
  const { provider, thing } = readFixture(FIXTURE);
  const schema = thing();
  const attributes = schema.block.attributes!;
  const blocks = schema.block.block_types!;

  it("copies type, optionality, sensitivity, descriptions from helpers, and deprecation", () => {
    expect(schema.version).toBe(1);
    expect(attributes.name).toEqual({ type: "string", ...plain, deprecated: true, optional: true });
    expect(attributes.thing_name).toEqual({ type: "string", description: "The name.", ...plain, optional: true });
    expect(attributes.secret).toEqual({ type: "string", ...plain, optional: true, sensitive: true });
  });

  it("types collections of values: ValueType elems, missing elems as strings, maps of resources as maps of strings", () => {
    expect(attributes.ports.type).toEqual(["list", "number"]);
    expect(attributes.labels.type).toEqual(["list", "string"]);
    expect(attributes.tags.type).toEqual(["map", "string"]);
    expect(attributes.odd_map.type).toEqual(["map", "string"]);
  });

  it("makes Resource elems nested blocks: Required gives min_items 1, Optional drops MinItems, MaxItems is kept", () => {
    expect(blocks.rules).toEqual({
      nesting_mode: "set",
      block: { attributes: { port: { type: "number", ...plain, required: true } }, ...plain },
      min_items: 1,
      max_items: 3,
    });
    expect(blocks.options).toEqual({ nesting_mode: "list", block: { ...plain } });
  });

  it("makes computed-only and ConfigModeAttr Resource elems attributes of object collections", () => {
    expect(attributes.endpoints).toEqual({
      type: ["list", ["object", { address: "string", ports: ["set", "number"] }]],
      ...plain,
      computed: true,
    });
    expect(attributes.as_attribute).toEqual({ type: ["list", ["object", { v: "bool" }]], ...plain, optional: true });
  });

  it("adds the implicit id attribute and a single timeouts block of the declared operations", () => {
    expect(attributes.id).toEqual({ type: "string", ...plain, optional: true, computed: true });
    expect(blocks.timeouts).toEqual({
      nesting_mode: "single",
      block: {
        attributes: { create: { type: "string", ...plain, optional: true }, delete: { type: "string", ...plain, optional: true } },
        ...plain,
      },
    });
  });

  it("reads the provider's own arguments; a Required one whose DefaultFunc falls back to a value is optional", () => {
    const block = providerSchemaJson(provider.schema).block;
    expect(block.attributes!.region).toEqual({ type: "string", description: "Where to work.", ...plain, optional: true });
    expect(block.attributes!.role_arn).toEqual({ type: "string", ...plain, optional: true });
    expect(block.attributes!.token).toEqual({ type: "string", ...plain, required: true });
    expect(block.attributes!.id).toBeUndefined();
  });

  it("fails, naming file and line, on a schema field it does not understand", () => {
    const broken = FIXTURE.replace('"secret":     {Type: schema.TypeString,', '"secret":     {Type: schema.TypeString, Mystery: true,');
    expect(() => readFixture(broken).thing()).toThrow(/alicloud\/fixture\.go:\d+: field Mystery is not understood/);
  });

  it("fails on a helper whose body is more than a return statement", () => {
    const broken = FIXTURE.replace(
      "return &schema.Schema{Type: schema.TypeMap, Optional: true}",
      "s := &schema.Schema{Type: schema.TypeMap, Optional: true}\n\treturn s",
    );
    expect(() => readFixture(broken).thing()).toThrow(/func tagsSchema: only a body that is a single return statement is understood/);
  });
});

// Needs a clone of aliyun/terraform-provider-alicloud; set ALICLOUD_PROVIDER_SOURCE to its path.
const providerSource = process.env.ALICLOUD_PROVIDER_SOURCE;
const withProviderSource = providerSource ? describe : describe.skip;
if (!providerSource)
  console.info("skipped: regenerating the vendored schema needs ALICLOUD_PROVIDER_SOURCE=<clone of terraform-provider-alicloud>");

withProviderSource("vendored schema regeneration", () => {
  it("reproduces the committed schema file from the pinned provider commit", () => {
    const subset = JSON.parse(readFileSync(SUBSET_FILE, "utf8"));
    const regenerated = extractSchema({ path: providerSource!, rev: subset.sourceCommit }, subset);
    expect(JSON.parse(readFileSync(SCHEMA_FILE, "utf8"))).toEqual(regenerated);
  });
});
