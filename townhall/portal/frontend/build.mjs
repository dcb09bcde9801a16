// Builds the portal's static front-end files from node_modules (see README.md):
//   ../static/portal/govuk.min.css          portal.scss, compiled with Dart Sass
//   ../static/portal/govuk-frontend.min.js  GOV.UK Frontend's ES module bundle
//   ../static/vendor/leaflet/               Leaflet's dist files and LICENSE
// and checks that the CSS loads no font and no file that we do not ship.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const staticDir = resolve(here, "..", "static");
const portalDir = join(staticDir, "portal");
const leafletDir = join(staticDir, "vendor", "leaflet");
const version = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

// Source map comments point at files we do not ship (Django's manifest storage
// would refuse leaflet.js's); the code itself is copied unchanged.
function copyWithoutSourceMap(from, to) {
  const code = readFileSync(from, "utf8").replace(/\/\/# sourceMappingURL=\S+\s*$/, "");
  writeFileSync(to, code.endsWith("\n") ? code : `${code}\n`);
}

// 1. GOV.UK Frontend CSS
mkdirSync(portalDir, { recursive: true });
const result = sass.compile(join(here, "portal.scss"), {
  loadPaths: [modules],
  style: "compressed",
  sourceMap: false,
  quietDeps: true,
});
const banner =
  `/*! GOV.UK Frontend v${version("govuk-frontend")} (MIT, Crown Copyright), selected components ` +
  `with Townhall brand variables; built by townhall/portal/frontend (npm run build) */\n`;
// Keep the file ASCII (no BOM, no charset question): Dart Sass writes a BOM and
// raw non-ASCII characters (a zero-width space and a no-break space in
// `content`, and U+FFFD for GOV.UK's `@media screen\0` IE hack). A CSS escape
// swallows one following space, so each escape ends with one.
const ascii = result.css
  .replace(/^\uFEFF/, "")
  .replace(/[^\x00-\x7F]/gu, (c) => (c === "\uFFFD" ? "\\0 " : `\\${c.codePointAt(0).toString(16)} `));
const css = banner + ascii + "\n";
if (/GDS Transport|@font-face/i.test(css)) fail("govuk.min.css still refers to the GDS Transport font");
for (const [, raw] of css.matchAll(/url\(\s*([^)]*?)\s*\)/g)) {
  const ref = raw.replace(/^["']|["']$/g, "").split(/[?#]/)[0];
  if (!ref || /^data:/.test(raw.replace(/^["']/, ""))) continue;
  if (!existsSync(resolve(portalDir, ref))) fail(`govuk.min.css refers to ${raw}, which is not under static/`);
}
writeFileSync(join(portalDir, "govuk.min.css"), css);

// 2. GOV.UK Frontend JS (an ES module: load it with <script type="module">)
copyWithoutSourceMap(
  join(modules, "govuk-frontend", "dist", "govuk", "govuk-frontend.min.js"),
  join(portalDir, "govuk-frontend.min.js"),
);
// The npm package has no licence file; ours is committed beside the bundle.
if (!existsSync(join(portalDir, "GOVUK-FRONTEND-LICENSE.txt"))) fail("static/portal/GOVUK-FRONTEND-LICENSE.txt is missing");

// 3. Leaflet
const leafletDist = join(modules, "leaflet", "dist");
rmSync(leafletDir, { recursive: true, force: true });
mkdirSync(join(leafletDir, "images"), { recursive: true });
copyWithoutSourceMap(join(leafletDist, "leaflet.js"), join(leafletDir, "leaflet.js"));
copyFileSync(join(leafletDist, "leaflet.css"), join(leafletDir, "leaflet.css"));
for (const image of readdirSync(join(leafletDist, "images"))) {
  copyFileSync(join(leafletDist, "images", image), join(leafletDir, "images", image));
}
copyFileSync(join(modules, "leaflet", "LICENSE"), join(leafletDir, "LICENSE"));

console.log(
  `build: govuk-frontend ${version("govuk-frontend")}, leaflet ${version("leaflet")}, sass ${sass.info.split("\t")[1]}; ` +
    `govuk.min.css ${Buffer.byteLength(css)} bytes`,
);
