"""Runtime: everything here reads CompiledArtifacts only, never the YAML inputs."""
