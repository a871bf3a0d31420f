# The MPI job images (mpiImplementation OpenMPI or MPICH) for users with Docker, one Dockerfile for the three; the
# Debian suite and the package list are the image's. From the project root:
#   docker build -t localhost/hpcjob/openmpi:4 --build-arg IMAGE=openmpi4 --build-arg SUITE=bookworm -f hack/images/mpi.Dockerfile hack/images
#   docker build -t localhost/hpcjob/openmpi:5 --build-arg IMAGE=openmpi5 --build-arg SUITE=trixie -f hack/images/mpi.Dockerfile hack/images
#   docker build -t localhost/hpcjob/mpich:4 --build-arg IMAGE=mpich --build-arg SUITE=trixie -f hack/images/mpi.Dockerfile hack/images
# or, without Docker, hack/images/build.sh IMAGE (the same packages and setup, the suite from its image_suite).
# Add the application on top (FROM localhost/hpcjob/openmpi:4). The pods run the operator's entrypoints from the
# job's ConfigMap, so the image needs no entrypoint of its own.
ARG SUITE=bookworm
FROM debian:${SUITE}-slim
ARG IMAGE=openmpi4
# The package list is shared with build.sh; setup.sh adds mpiuser, builds /usr/local/bin/hpcjob-ring with this
# image's mpicc and drops the package's sshd host keys (each job brings its own).
COPY ${IMAGE}/packages mpi-program/ /tmp/hpcjob-image/
RUN apt-get update \
 && sed 's/#.*//' /tmp/hpcjob-image/packages | DEBIAN_FRONTEND=noninteractive xargs apt-get install -y --no-install-recommends \
 && sh /tmp/hpcjob-image/setup.sh /tmp/hpcjob-image \
 && rm -rf /tmp/hpcjob-image
# Numeric, so that kubelet can check runAsNonRoot. Other uids work too: the entrypoints give them a passwd entry
# through nss_wrapper.
USER 1000:1000
WORKDIR /home/mpiuser
