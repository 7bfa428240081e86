import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ContractValidationError, parse } from "../../contract";
import { loadScriptedScenario, type ScriptedScenario } from "../models/scripted";
import { AppConfig } from "./app-config";

/**
 * An app folder:
 *
 *   <app>/app.json            optional settings (capabilities, model, policy, instructions)
 *   <app>/skills/<skill>/     pi Skills: SKILL.md plus scripts
 *   <app>/adapters/*.json     execution adapters (HTTP/JSON endpoints as tools, ...)
 *   <app>/scripted-model.json optional offline demo scenario (the `scripted/<app>` model)
 *   <app>/<workdir_seed>/     optional files a new, empty workdir starts with (app.json names it)
 *
 * `--skills` may point the skills somewhere else; without an app folder an agent runs with
 * defaults and only those skills.
 */
export interface AppFolder {
  app: string;
  root: string | null;
  config: AppConfig;
  skillsDir: string | null;
  adaptersDir: string | null;
  /** Directories file tools may read besides the workdir (skills, policy.read_paths). */
  readRoots: string[];
  scripted: ScriptedScenario | null;
  /** Copied into the workdir when it is new or empty. */
  workdirSeed: string | null;
}

/** The app folder or skills folder named on the command line is not there. */
export class AppFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AppFolderError";
  }
}

export function loadAppFolder(options: {
  app: string;
  appDir?: string;
  skillsDir?: string;
}): AppFolder {
  const root = options.appDir ? resolve(options.appDir) : null;
  if (root && !isDir(root)) throw new AppFolderError(`app folder ${root} does not exist`);
  const configFile = root ? join(root, "app.json") : null;
  const config =
    configFile && existsSync(configFile)
      ? parse(AppConfig, readJson(configFile), configFile)
      : AppConfig.parse({});
  if (config.app !== undefined && config.app !== options.app) {
    throw new ContractValidationError(configFile ?? "app.json", [
      {
        path: "app",
        expected: JSON.stringify(options.app),
        message: `app.json is for '${config.app}' but the agent serves '${options.app}'`,
        code: "invalid_value",
      },
    ]);
  }
  const skillsDir = options.skillsDir
    ? resolve(options.skillsDir)
    : root && isDir(join(root, "skills"))
      ? join(root, "skills")
      : null;
  if (skillsDir && !isDir(skillsDir))
    throw new AppFolderError(`skills folder ${skillsDir} does not exist`);
  const adaptersDir = root && isDir(join(root, "adapters")) ? join(root, "adapters") : null;
  const readRoots = [
    ...(skillsDir ? [skillsDir] : []),
    ...config.policy.read_paths.map((p) => resolve(root ?? ".", p)),
  ];
  const workdirSeed = config.workdir_seed ? resolve(root ?? ".", config.workdir_seed) : null;
  if (workdirSeed && !isDir(workdirSeed))
    throw new AppFolderError(`workdir_seed ${workdirSeed} (app.json) does not exist`);
  return {
    app: options.app,
    root,
    config,
    skillsDir,
    adaptersDir,
    readRoots,
    scripted: loadScriptedScenario(root),
    workdirSeed,
  };
}

function readJson(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ContractValidationError(file, [
      {
        path: "$",
        expected: "JSON",
        message: error instanceof Error ? error.message : String(error),
        code: "invalid_json",
      },
    ]);
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
