"""Kubeflow Pipelines v1 (kfp 1.8 SDK): an HPCJob as a pipeline step through dsl.ResourceOp.

KFP v1 compiles a ResourceOp into an Argo Workflows resource template, so the step works as in
examples/pipelines/argo/workflow.yaml: Argo's executor creates the HPCJob, then reads it until
status.phase is Succeeded (the step succeeds) or Failed (the step fails). The job's exit code is
the step's output, for steps after it.

    python3 v1_resource_op.py          # writes hpcjob_v1_pipeline.yaml, to upload to KFP v1

The pipeline runs as KFP's pipeline-runner ServiceAccount, which needs create and get on hpcjobs
(docs/pipelines.md).
"""
import copy
import pathlib

import yaml
from kfp import compiler, dsl

JOB_FILE = pathlib.Path(__file__).with_name("ring-job.yaml")


def hpcjob_manifest() -> dict:
    """ring-job.yaml named after the run: Argo fills in {{workflow.name}} when the step starts."""
    job = copy.deepcopy(yaml.safe_load(JOB_FILE.read_text()))
    job["metadata"]["name"] = "{{workflow.name}}-ring"
    return job


@dsl.pipeline(name="hpcjob-ring", description="An MPI job on the cluster as one pipeline step")
def hpcjob_pipeline():
    dsl.ResourceOp(
        name="mpi-ring",
        k8s_resource=hpcjob_manifest(),
        action="create",
        # Label-selector syntax against the HPCJob's JSON: scalar fields only, hence the phase.
        success_condition="status.phase == Succeeded",
        failure_condition="status.phase == Failed",
        # Deleting the run's Workflow deletes the job and its pods.
        set_owner_reference=True,
        attribute_outputs={"exit-code": "{.status.launcher.exitCode}"},
    )


if __name__ == "__main__":
    compiler.Compiler().compile(hpcjob_pipeline, "hpcjob_v1_pipeline.yaml")
