"""The compiler: two YAML files in, one governed CompiledArtifacts out."""

from floe.compiler.stages import CompilationStage, compile_pipeline

__all__ = ["CompilationStage", "compile_pipeline"]
