"""Kubeflow Pipelines v2 (kfp 2.x SDK): an HPCJob as a pipeline task through a container component.

The component (hpcjob-submit.component.yaml) runs `hpcjob submit <manifest> --wait` in the operator's
image: the task succeeds when mpirun exits 0 and fails with mpirun's exit code otherwise.

    python3 v2_pipeline.py             # writes hpcjob_v2_pipeline.yaml, to upload to KFP v2

The manifest is a run parameter whose default is ring-job.yaml. An HPCJob's name is unique in its
namespace, so a second run in the same namespace passes a manifest with another name (or the first
job is deleted).
"""
import pathlib

from kfp import compiler, components, dsl

HERE = pathlib.Path(__file__).parent
RING_JOB = (HERE / "ring-job.yaml").read_text()
hpcjob_submit = components.load_component_from_file(str(HERE / "hpcjob-submit.component.yaml"))


@dsl.pipeline(name="hpcjob-ring-v2", description="An MPI job on the cluster as one pipeline task")
def hpcjob_pipeline(manifest: str = RING_JOB):
    hpcjob_submit(manifest=manifest)


if __name__ == "__main__":
    compiler.Compiler().compile(hpcjob_pipeline, "hpcjob_v2_pipeline.yaml")
