/** The newest-image lookup, against the ECS API double (which checks the signature as ECS does). */
import { SYSTEM_IMAGE_ID } from "../../../stacks/config";
import { accessKeyFromEnvironment, imageBuildDate, newestSystemImage, percentEncode } from "../../../scripts/lib/ecs-images";
import { EcsApiDouble, startEcsApiDouble } from "../../doubles/ecs-api-double";

const KEY = { id: "LTAI-test-key", secret: "test/secret+with=odd&chars" };
// 150 images, so the lookup has to read two pages of 100.
const IMAGES = [
  ...Array.from({ length: 146 }, (_, i) => ({
    ImageId: `centos_7_9_x64_20G_alibase_2023${String(i).padStart(4, "0")}.vhd`,
    CreationTime: "2023-01-01T00:00:00Z",
  })),
  { ImageId: "aliyun_3_x64_20G_alibase_20251030.vhd", CreationTime: "2025-10-30T08:00:00Z" },
  { ImageId: "aliyun_3_x64_20G_alibase_20260115.vhd", CreationTime: "2026-01-15T08:00:00Z" },
  { ImageId: "aliyun_3_x64_20G_alibase_20260301.vhd", CreationTime: "2026-03-01T08:00:00Z", Architecture: "arm64" },
  { ImageId: "aliyun_3_x64_20G_qboot_alibase_20260201.vhd", CreationTime: "2026-02-01T08:00:00Z" },
];

let ecs: EcsApiDouble;
beforeAll(async () => {
  ecs = await startEcsApiDouble({ accessKeys: { [KEY.id]: KEY.secret }, images: IMAGES });
});
afterAll(() => ecs.close());

describe("newestSystemImage", () => {
  test("finds the newest x86-64 image that image_id may pin, reading every page", async () => {
    const newest = await newestSystemImage({ endpoint: ecs.endpoint, region: "cn-hangzhou", accessKey: KEY, idPattern: SYSTEM_IMAGE_ID });
    expect(newest).toEqual({ imageId: "aliyun_3_x64_20G_alibase_20260115.vhd", creationTime: "2026-01-15T08:00:00Z" });
    const asked = ecs.requests.slice(-2);
    expect(asked.map((request) => request.PageNumber)).toEqual(["1", "2"]);
    expect(asked[0]).toMatchObject({
      Action: "DescribeImages",
      RegionId: "cn-hangzhou",
      ImageOwnerAlias: "system",
      Architecture: "x86_64",
    });
  });

  test("a wrong secret is refused the way ECS refuses it", async () => {
    await expect(
      newestSystemImage({
        endpoint: ecs.endpoint,
        region: "cn-hangzhou",
        accessKey: { ...KEY, secret: "wrong" },
        idPattern: SYSTEM_IMAGE_ID,
      }),
    ).rejects.toThrow("ECS DescribeImages answered 400 SignatureDoesNotMatch");
  });
});

test("percent-encoding leaves only unreserved characters", () => {
  expect(percentEncode("a b*c~d'(e)!/=")).toBe("a%20b%2Ac~d%27%28e%29%21%2F%3D");
});

test("the build date comes from a system image id; a custom image has none", () => {
  expect(imageBuildDate("aliyun_3_x64_20G_alibase_20251030.vhd")).toEqual(new Date("2025-10-30T00:00:00Z"));
  expect(imageBuildDate("m-bp1abcdefgh123456")).toBeUndefined();
});

test("the AccessKey comes from the variables the provider reads, or there is none", () => {
  expect(accessKeyFromEnvironment({ ALICLOUD_ACCESS_KEY: "id", ALICLOUD_SECRET_KEY: "s" })).toEqual({
    id: "id",
    secret: "s",
    securityToken: undefined,
  });
  expect(accessKeyFromEnvironment({ ALICLOUD_ACCESS_KEY: "id" })).toBeUndefined();
});
