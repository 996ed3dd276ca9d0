"""The official Python client against kubesim: one scripted session, each answer checked.

Run by server/tests/python_client.rs with the interpreter of the Makefile's virtual environment:
    session.py MANAGEMENT_KUBECONFIG WORKLOAD_KUBECONFIG
Exits non-zero (with the failing check) on the first answer that is not what Kubernetes gives.
"""
import sys
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.dynamic import DynamicClient


def check(what, got, want):
    if got != want:
        raise SystemExit(f"FAIL {what}: got {got!r}, want {want!r}")
    print(f"ok {what}")


def refused(what, call, status, reason=None):
    try:
        call()
    except ApiException as e:
        check(f"{what}: status", e.status, status)
        if reason is not None:
            import json
            check(f"{what}: reason", json.loads(e.body).get("reason"), reason)
        return
    raise SystemExit(f"FAIL {what}: was accepted")


def api(path):
    return config.new_client_from_config(config_file=path)


mgmt_path, workload_path = sys.argv[1], sys.argv[2]
mgmt, work = api(mgmt_path), api(workload_path)
core_m, core_w = client.CoreV1Api(mgmt), client.CoreV1Api(work)
apps_w = client.AppsV1Api(work)
custom = client.CustomObjectsApi(mgmt)

# Version and discovery, over TLS with the kubeconfig's CA and token.
check("management version", client.VersionApi(mgmt).get_code().git_version, "v1.34.2")
groups = [g.name for g in client.ApisApi(mgmt).get_api_versions().groups]
check("cluster.x-k8s.io discovered", "cluster.x-k8s.io" in groups, True)

# Custom resources: list the demo fleet's Clusters.
names = sorted(c["metadata"]["name"] for c in custom.list_namespaced_custom_object(
    "cluster.x-k8s.io", "v1beta2", "default", "clusters")["items"])
check("demo clusters", names, ["ml-sea", "prod-weu", "staging-eus"])

# Create, dry run, field validation, patch, delete.
core_w.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="py")))
check("namespace phase", core_w.read_namespace("py").status.phase, "Active")
cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"mode": "fast"}}
core_w.create_namespaced_config_map("py", cm, dry_run="All")
refused("a dry run stored nothing", lambda: core_w.read_namespaced_config_map("settings", "py"), 404)
# The typed API refuses unknown fields itself; the dynamic client sends them as written.
odd = dict(cm, dataa={"x": "y"})
maps = DynamicClient(work).resources.get(api_version="v1", kind="ConfigMap")
refused("Strict refuses an unknown field",
        lambda: maps.create(body=odd, namespace="py", query_params=[("fieldValidation", "Strict")]),
        400, "BadRequest")
maps.create(body=odd, namespace="py", query_params=[("fieldValidation", "Ignore")])
stored = core_w.read_namespaced_config_map("settings", "py")
check("the unknown field was dropped", stored.data, {"mode": "fast"})
core_w.patch_namespaced_config_map("settings", "py", {"data": {"mode": "slow"}})
check("merge patch", core_w.read_namespaced_config_map("settings", "py").data["mode"], "slow")
# Server-side apply: the applier owns what it sent; another writer's change to it is a conflict.
intent = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "1"}}
applied = maps.server_side_apply(body=intent, namespace="py", field_manager="py-apply").to_dict()
check("server-side apply created", applied["data"], {"k": "1"})
check("apply owner", [(e["manager"], e["operation"]) for e in applied["metadata"]["managedFields"]],
      [("py-apply", "Apply")])
core_w.patch_namespaced_config_map("applied", "py", {"data": {"k": "2"}})
refused("an apply over another writer's field",
        lambda: maps.server_side_apply(body=intent, namespace="py", field_manager="py-apply"), 409, "Conflict")
maps.server_side_apply(body=intent, namespace="py", field_manager="py-apply", force_conflicts=True)
check("forced apply", core_w.read_namespaced_config_map("applied", "py").data, {"k": "1"})
refused("a stale update conflicts", lambda: core_w.replace_namespaced_config_map(
    "settings", "py", dict(cm, metadata={"name": "settings", "resourceVersion": "1"})), 409, "Conflict")

# A Deployment, scaled through its scale subresource; its pods run.
deployment = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}},
}
apps_w.create_namespaced_deployment("py", deployment)
check("defaulted strategy", apps_w.read_namespaced_deployment("web", "py").spec.strategy.type, "RollingUpdate")
scale = apps_w.patch_namespaced_deployment_scale("web", "py", {"spec": {"replicas": 2}})
check("scale subresource", scale.spec.replicas, 2)
deadline = time.time() + 60
running = []
while time.time() < deadline:
    running = [p.metadata.name for p in core_w.list_namespaced_pod("py", label_selector="app=web").items
               if p.status.phase == "Running"]
    if len(running) == 2:
        break
    time.sleep(0.2)
check("two running pods", len(running), 2)

# A watch sees the change it is waiting for.
w = watch.Watch()
version = core_w.list_namespaced_config_map("py").metadata.resource_version
core_w.patch_namespaced_config_map("settings", "py", {"data": {"mode": "watched"}})
seen = None
for event in w.stream(core_w.list_namespaced_config_map, "py", resource_version=version, timeout_seconds=10):
    seen = (event["type"], event["object"].data["mode"])
    w.stop()
check("watch event", seen, ("MODIFIED", "watched"))

# Logs, access reviews, metrics.
logs = core_w.read_namespaced_pod_log(running[0], "py", tail_lines=3)
check("log lines", len(logs.strip().splitlines()) > 0, True)
review = client.AuthorizationV1Api(work).create_self_subject_access_review(
    {"spec": {"resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": "py"}}})
check("auth can-i", review.status.allowed, True)
newer = client.EventsV1Api(work).list_namespaced_event("default").items
check("events.k8s.io serves the cluster's events", len(newer) > 0 and all(e.regarding for e in newer), True)
client.EventsV1Api(work).create_namespaced_event("py", {
    "apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "web.started"},
    "eventTime": "2026-01-01T00:00:00.000000Z", "regarding": {"kind": "Deployment", "namespace": "py", "name": "web"},
    "reason": "Started", "note": "written as events.k8s.io", "type": "Normal", "action": "Start",
    "reportingController": "py-session", "reportingInstance": "py-1"})
check("an events.k8s.io Event is a core Event", core_w.read_namespaced_event("web.started", "py").message,
      "written as events.k8s.io")
node_metrics = client.CustomObjectsApi(work).list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
check("node metrics", node_metrics["kind"], "NodeMetricsList")

# An eviction a PodDisruptionBudget forbids is 429; without the budget it goes through.
client.PolicyV1Api(work).create_namespaced_pod_disruption_budget("py", {
    "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
    "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}})
eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": running[0], "namespace": "py"}}
refused("a budget forbids the eviction",
        lambda: core_w.create_namespaced_pod_eviction(running[0], "py", eviction), 429, "TooManyRequests")
client.PolicyV1Api(work).delete_namespaced_pod_disruption_budget("web", "py")
core_w.create_namespaced_pod_eviction(running[0], "py", eviction)
check("evicted pod terminating", core_w.read_namespaced_pod(running[0], "py").metadata.deletion_timestamp is not None, True)

# Deleting with Orphan keeps the ReplicaSet and its pods; the namespace takes them with it.
apps_w.delete_namespaced_deployment("web", "py", propagation_policy="Orphan")
refused("the Deployment is gone", lambda: apps_w.read_namespaced_deployment("web", "py"), 404)
# The ReplicaSet is orphaned (no owner) and keeps its pods.
owners = core_w.read_namespaced_pod(running[1], "py").metadata.owner_references
check("orphans stay with their ReplicaSet", [o.kind for o in owners], ["ReplicaSet"])
orphaned = apps_w.read_namespaced_replica_set(owners[0].name, "py")
check("the ReplicaSet lost its owner", orphaned.metadata.owner_references, None)
core_w.delete_namespace("py")
refused("the namespace is gone", lambda: core_w.read_namespace("py"), 404)

# A wrong token is refused.
import re
import tempfile
with open(mgmt_path) as f:
    forged = re.sub(r'token: "[^"]*"', 'token: "kubesim-wrong"', f.read())
with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
    f.write(forged)
refused("a wrong token", lambda: client.CoreV1Api(api(f.name)).list_namespace(), 401, "Unauthorized")
print("python client session passed")
