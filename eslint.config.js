// eslint's flat config for the browser code (app/static/js: ES modules, no globals of our
// own) and its unit tests (tests/js: node --test). `npm run lint`; ./test.sh runs it.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "app/static/vendor/", ".venv/"] },
  js.configs.recommended,
  {
    files: ["app/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      // Browser globals only: the one script global the pages read is the vendored
      // Chart.js (window.Chart); ours are all imported.
      globals: { ...globals.browser },
    },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node },
    },
  },
  {
    rules: {
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "eqeqeq": ["error", "always", { null: "ignore" }],
      "prefer-const": "error",
      "no-var": "error",
      "no-shadow": "error",
      "no-restricted-globals": ["error", {
        name: "OrderPulse",
        message: "Import what you need from app/static/js/lib/ instead of a global.",
      }],
      "no-restricted-properties": ["error", {
        object: "window", property: "OrderPulse",
        message: "Import what you need from app/static/js/lib/ instead of a global.",
      }],
      "curly": ["error", "multi-line"],
      "no-throw-literal": "error",
    },
  },
];
