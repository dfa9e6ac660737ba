"""The friendly layer over the generated stubs: upload, submit, watch, fetch, as `lantern explain` does."""

import csv
import glob
import hashlib
import json
import os
import sys
from dataclasses import dataclass, field

import grpc
import numpy as np

from lantern_client._generated.lantern.v1 import lantern_pb2 as pb
from lantern_client._generated.lantern.v1 import lantern_pb2_grpc as rpc
from lantern_client._generated.lantern.v1 import datasets_pb2 as pb_datasets
from lantern_client._generated.lantern.v1 import datasets_pb2_grpc as rpc_datasets
from lantern_client._generated.lantern.v1 import pictures_pb2 as pb_pictures
from lantern_client.images import encode_png

_CHUNK = 1 << 20
_FINISHED = (pb.JOB_STATE_DONE, pb.JOB_STATE_FAILED, pb.JOB_STATE_CANCELLED)
_GRADIENT_METHODS = (
    "gradcam", "gradcam++", "cam", "scorecam", "activations",
    "saliency", "gradient-x-input", "integrated-gradients", "smoothgrad", "guided-backprop", "pooled-activations",
)
# What `lantern datasets create DIR` takes from a directory (src/Cli/Datasets/DatasetSource.cs).
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
_HASHES_PER_CALL = 10_000
# The model descriptor's defaults (src/Models/ModelDescriptor.cs): the torchvision ImageNet convention.
_DESCRIPTOR_DEFAULTS = {
    "input_size": None, "resize": "shorter_side_crop", "resize_shorter_side": 256, "channel_order": "rgb",
    "layout": None, "scale": 1 / 255, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
    "output": "logits", "labels": None,
}


class JobFailed(RuntimeError):
    """A job ended failed or cancelled; .progress is its last JobProgress."""

    def __init__(self, progress):
        super().__init__(f"job {progress.job_id} ended {state_name(progress.state)}: {progress.error}")
        self.progress = progress


def state_name(state) -> str:
    """"done" for JOB_STATE_DONE, and so on."""
    return pb.JobState.Name(state).removeprefix("JOB_STATE_").lower()


@dataclass
class Result:
    """A finished job: maps as float32 arrays at the image's resolution, and the summary."""

    job_id: str
    maps: dict          # class (or (class, region)) -> the combined / only map
    scale_maps: dict    # (class, window) -> one scale's map of a multi-scale occlusion job
    masks: dict         # class -> LIME's positive-only mask (1 on the top features)
    summary: dict
    top_classes: list   # [(class, label, score)], the model's own top classes
    targets: list       # explained class indices (-1 - r for region r)
    scores: np.ndarray  # the model's scores for the unperturbed image
    overlays: dict = field(default_factory=dict)  # file name -> PNG bytes, when asked for
    dreams: dict = field(default_factory=dict)    # deep-dream: class (or channel) -> the dream, H x W x 3 RGB in 0..1
    raw: object = None  # the JobResult message

    def save(self, directory: str) -> list:
        """Writes what `lantern result ID --out DIR` writes: summary.json, map-*.npy, mask-*.npy, overlays."""
        os.makedirs(directory, exist_ok=True)
        written = [os.path.join(directory, "summary.json")]
        with open(written[0], "w", encoding="utf-8") as f:
            f.write(self.raw.summary_json if self.raw is not None else json.dumps(self.summary))
        for m in self.raw.maps:
            stem = _stem(m)
            path = os.path.join(directory, f"{m.kind or 'map'}-{stem}.npy")
            np.save(path, _array(m))
            written.append(path)
        for name, png in self.overlays.items():
            path = os.path.join(directory, name)
            with open(path, "wb") as f:
                f.write(png)
            written.append(path)
        return written


@dataclass
class DatasetResult:
    """A finished dataset job: one row per image (its own job, state, top classes, target scores), and the global views
    the job was asked for: the t-SNE embedding (method pooled-activations) and, with overlays, the max/min activating
    pictures and tsne.png."""

    job_id: str
    images: list        # DatasetImageResult messages, in the dataset's order
    pictures: dict      # file name -> PNG bytes (max-activating-<class>.png, min-activating-<class>.png, tsne.png)
    embedding: object   # DatasetEmbedding message, or None
    summary: dict
    raw: object = None  # the JobResult message

    def ranking(self, target_class: int = None, channel: int = None) -> list:
        """[(file_name, score)] of the done images, highest first: by a target class's score for the unperturbed image
        (a class every image was explained for), or by a layer channel's pooled activation (method pooled-activations)."""
        rows = []
        for image in self.images:
            if image.state != pb.JOB_STATE_DONE:
                continue
            if channel is not None:
                if channel < len(image.pooled):
                    rows.append((image.file_name, image.pooled[channel]))
            elif target_class in image.targets:
                rows.append((image.file_name, image.target_scores[list(image.targets).index(target_class)]))
        if channel is None and target_class is None:
            raise ValueError("rank by target_class or by channel")
        return sorted(rows, key=lambda r: -r[1])

    def tsne(self) -> np.ndarray:
        """The embedded images' t-SNE coordinates, one (x, y) row per entry of .embedding.image_index."""
        if self.embedding is None:
            raise ValueError(f"job {self.job_id} has no embedding: run method pooled-activations with a layer")
        return np.stack([np.array(self.embedding.x, dtype=np.float32), np.array(self.embedding.y, dtype=np.float32)], axis=1)


class Client:
    """A connection to a Lantern gateway.

    address: "host:port" or "http://host:port" (https:// for TLS). api_key: sent as `authorization: Bearer KEY`
    on every call when given (default: the LANTERN_API_KEY environment variable). ca_cert: PEM file of the CA an
    https:// gateway's certificate must chain to, e.g. ca.pem from `lantern certs` (default: LANTERN_CA_CERT, else
    the system's CAs).
    """

    def __init__(self, address: str, api_key: str = None, timeout: float = None, ca_cert: str = None):
        secure = address.startswith("https://")
        ca_cert = ca_cert if ca_cert is not None else os.environ.get("LANTERN_CA_CERT")
        roots = open(ca_cert, "rb").read() if secure and ca_cert else None  # None: the system's CAs
        target = address.split("://", 1)[1] if "://" in address else address
        target = target.rstrip("/")
        options = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
        self._channel = (grpc.secure_channel(target, grpc.ssl_channel_credentials(root_certificates=roots), options) if secure
                         else grpc.insecure_channel(target, options))
        self.stub = rpc.LanternStub(self._channel)
        self.datasets_stub = rpc_datasets.DatasetsStub(self._channel)
        key = api_key if api_key is not None else os.environ.get("LANTERN_API_KEY")
        self._metadata = (("authorization", f"Bearer {key}"),) if key else ()
        self._timeout = timeout

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- artifacts -------------------------------------------------------------------------------------------------

    def upload_model(self, model) -> str:
        """Uploads an ONNX model (a path or bytes); returns its SHA-256. Nothing is sent when the cluster already holds
        these bytes for you (FindMissingArtifacts on the hash computed here)."""
        data, name = _read(model)
        if self._holds(data):
            return hashlib.sha256(data).hexdigest()
        return self.stub.UploadModel(_chunks(data, name), metadata=self._metadata, timeout=self._timeout).sha256

    def upload_image(self, image) -> str:
        """Uploads an image (a path, encoded bytes, or an (H, W, 3) numpy array); returns its SHA-256. Nothing is sent
        when the cluster already holds these bytes for you."""
        if isinstance(image, np.ndarray):
            data, name = encode_png(image), "array.png"
        else:
            data, name = _read(image)
        if self._holds(data):
            return hashlib.sha256(data).hexdigest()
        return self.stub.UploadImage(_chunks(data, name), metadata=self._metadata, timeout=self._timeout).sha256

    def _holds(self, data: bytes) -> bool:
        """Whether the gateway holds these bytes for this caller; False from a gateway that predates the question."""
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            reply = self.stub.FindMissingArtifacts(pb.FindMissingArtifactsRequest(sha256=[sha256]),
                                                   metadata=self._metadata, timeout=self._timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNIMPLEMENTED:
                return False
            raise
        return sha256 not in reply.missing_sha256

    # --- jobs ------------------------------------------------------------------------------------------------------

    def submit(self, image, model, method: str = "occlusion", **params) -> str:
        """Uploads what needs uploading, submits the job and returns its id at once.

        model: a path to an ONNX file (its descriptor name.json beside it supplies preprocessing and labels, as for
        `lantern explain`), or a registered model "name:version". params: the options of `lantern explain`, with
        underscores: window=32, stride=16, windows=[16, 32], fill="mean", samples=1000, seed=7, segments=50,
        top_k=1, classes=[207], layer="...", steps=32, priority=0, request_id="...", no_cache=True, ...
        """
        request = self._request(method, model, params)
        request.image_sha256 = self.upload_image(image)
        if not request.name:
            request.name = os.path.basename(image) if isinstance(image, (str, os.PathLike)) else "array.png"
        return self.stub.SubmitJob(request, metadata=self._metadata, timeout=self._timeout).job_id

    def watch(self, job_id: str, progress=True):
        """Follows the job until it ends and returns its last JobProgress. progress: True draws a progress bar on
        stderr, a callable is called with every JobProgress, False is silent."""
        last = None
        for p in self.stub.WatchJob(pb.WatchJobRequest(job_id=job_id), metadata=self._metadata):
            last = p
            if callable(progress):
                progress(p)
            elif progress:
                _draw_bar(p)
        if progress is True and last is not None:
            sys.stderr.write("\n")
        return last

    def get(self, job_id: str):
        """The job's JobProgress now."""
        return self.stub.GetJob(pb.GetJobRequest(job_id=job_id), metadata=self._metadata, timeout=self._timeout)

    def result(self, job_id: str, overlays: bool = False, colormap: str = "", alpha: float = None, sign: str = "",
               outlier_percent: float = None, plain: bool = False) -> Result:
        """The maps and summary of a finished job (FAILED_PRECONDITION while it runs). overlays=True also fetches the
        PNG pictures (.overlays: file name -> bytes), drawn as colormap/alpha/sign/outlier_percent say."""
        style = pb_pictures.OverlayStyle(colormap=colormap, sign=sign, plain=plain)
        if alpha is not None:
            style.alpha = alpha
        if outlier_percent is not None:
            style.outlier_percent = outlier_percent
        r = self.stub.GetResult(pb.GetResultRequest(job_id=job_id, include_overlays=overlays, overlay_style=style),
                                metadata=self._metadata, timeout=self._timeout)
        maps, scale_maps, masks, dreams, pngs = {}, {}, {}, {}, {}
        for m in r.maps:
            key = m.target_class if m.region == 0 else (m.target_class, m.region)
            if m.kind == "mask":
                masks[key] = _array(m)
            elif m.kind == "dream":
                dreams[key] = _array(m)
            elif m.window != 0:
                scale_maps[(m.target_class, m.window)] = _array(m)
            else:
                maps[key] = _array(m)
            if m.overlay_png:
                stem = _stem(m)
                pngs[f"overlay-{stem}.png" if not m.kind else f"overlay-{m.kind}-{stem}.png"] = m.overlay_png
        for picture in r.pictures:  # a multi-scale job's sheet per target
            pngs[os.path.basename(picture.name)] = picture.png
        return Result(
            job_id=job_id, maps=maps, scale_maps=scale_maps, masks=masks, dreams=dreams,
            summary=json.loads(r.summary_json) if r.summary_json else {},
            top_classes=[(c.class_index, c.label, c.score) for c in r.top_classes],
            targets=list(r.targets), scores=np.array(r.model_scores, dtype=np.float32), overlays=pngs, raw=r)

    def explain(self, image, model, method: str = "occlusion", progress: bool = False, **params) -> Result:
        """submit + watch + result: runs one explanation and returns its maps. Raises JobFailed if it fails."""
        job_id = self.submit(image, model, method, **params)
        final = self.watch(job_id, progress)
        if final is None or final.state != pb.JOB_STATE_DONE:
            raise JobFailed(final or self.get(job_id))
        return self.result(job_id)

    def cancel(self, job_id: str):
        """Cancels a job; returns its JobProgress."""
        return self.stub.CancelJob(pb.CancelJobRequest(job_id=job_id), metadata=self._metadata, timeout=self._timeout)

    def delete(self, job_id: str):
        """Removes a job and its results (a running job is cancelled first)."""
        self.stub.DeleteJob(pb.DeleteJobRequest(job_id=job_id), metadata=self._metadata, timeout=self._timeout)

    def jobs(self, states=None, owner: str = "", model: str = "", page_size: int = 100, limit: int = None):
        """The jobs the caller may see, newest first, following the pages: a generator of JobProgress.
        states: names ("running", "done", ...) or JobState values; model: a model's SHA-256."""
        wanted = [s if isinstance(s, int) else pb.JobState.Value("JOB_STATE_" + s.upper()) for s in (states or [])]
        token, seen = "", 0
        while True:
            page = self.stub.ListJobs(
                pb.ListJobsRequest(page_size=page_size, page_token=token, states=wanted, owner=owner, model_sha256=model),
                metadata=self._metadata, timeout=self._timeout)
            for job in page.jobs:
                if limit is not None and seen >= limit:
                    return
                seen += 1
                yield job
            token = page.next_page_token
            if not token:
                return

    # --- datasets --------------------------------------------------------------------------------------------------

    def create_dataset(self, name: str, images, labels=None):
        """Records images as the dataset's next version (as `lantern datasets create`) and returns the Dataset message.

        images: a directory (its image files), a glob ("photos/*.jpg"), or a list of paths; ordered by file name.
        labels: a dict file name -> label, or a CSV of "file name,label" rows. Only images the cluster does not already
        hold for the caller are uploaded. The same files and labels again answer the latest version (created=False)."""
        paths = _image_files(images)
        names = [os.path.basename(p) for p in paths]
        if isinstance(labels, (str, os.PathLike)):
            labels = _read_labels(labels)
        labels = labels or {}
        unknown = sorted(set(labels) - set(names))
        if unknown:
            raise ValueError(f"labels name files that are not in the dataset: {', '.join(unknown[:5])}")
        hashes = []
        for path in paths:
            with open(path, "rb") as f:
                hashes.append(hashlib.sha256(f.read()).hexdigest())
        held = set()
        distinct = sorted(set(hashes))
        for start in range(0, len(distinct), _HASHES_PER_CALL):
            held.update(self.datasets_stub.FindImages(pb_datasets.FindImagesRequest(sha256=distinct[start:start + _HASHES_PER_CALL]),
                                                      metadata=self._metadata, timeout=self._timeout).present)
        for path, sha in zip(paths, hashes):
            if sha not in held:
                if self.upload_image(path) != sha:
                    raise IOError(f"{path} changed while it was uploaded; try again")
                held.add(sha)
        entries = [pb_datasets.DatasetEntry(image_sha256=sha, file_name=n, label=labels.get(n, ""))
                   for sha, n in zip(hashes, names)]
        return self.datasets_stub.CreateDataset(pb_datasets.CreateDatasetRequest(name=name, entries=entries),
                                                metadata=self._metadata, timeout=self._timeout)

    def datasets(self) -> list:
        """Every version of the caller's team's datasets (Dataset messages without entries)."""
        return list(self.datasets_stub.ListDatasets(pb_datasets.ListDatasetsRequest(), metadata=self._metadata,
                                                    timeout=self._timeout).datasets)

    def dataset_entries(self, dataset: str) -> list:
        """A dataset's entries in order ("name" for the latest version, or "name:version")."""
        entries, token = [], ""
        while True:
            page = self.datasets_stub.GetDataset(pb_datasets.GetDatasetRequest(dataset=dataset, page_token=token),
                                                 metadata=self._metadata, timeout=self._timeout)
            entries.extend(page.entries)
            token = page.next_page_token
            if not token:
                return entries

    def delete_dataset(self, dataset: str) -> int:
        """Removes "name:version", or every version of "name"; returns the versions removed. Images stay."""
        return self.datasets_stub.DeleteDataset(pb_datasets.DeleteDatasetRequest(dataset=dataset), metadata=self._metadata,
                                                timeout=self._timeout).versions_removed

    def submit_dataset(self, dataset: str, model, method: str = "occlusion", **params) -> str:
        """Submits one job over every image of a dataset ("name" or "name:version") and returns its id at once.
        Parameters as for submit; each image's maps are those a single-image job gives."""
        request = self._request(method, model, params)
        request.dataset = dataset
        if not request.name:
            request.name = dataset
        return self.stub.SubmitJob(request, metadata=self._metadata, timeout=self._timeout).job_id

    def dataset_result(self, job_id: str, overlays: bool = False, ranking_size: int = 0, ranking_channel: int = None,
                       tsne_perplexity: float = 0, tsne_iterations: int = 0) -> DatasetResult:
        """A finished dataset job's images and global views. overlays=True draws the max/min activating pictures
        (ranking_size images each; by ranking_channel's pooled activation for method pooled-activations) and tsne.png.
        tsne_perplexity/tsne_iterations: the t-SNE's (0: the gateway's defaults, 30 and 1000)."""
        request = pb.GetResultRequest(job_id=job_id, include_overlays=overlays, ranking_size=ranking_size,
                                      tsne_perplexity=tsne_perplexity, tsne_iterations=tsne_iterations)
        if ranking_channel is not None:
            request.ranking_channel = ranking_channel
        r = self.stub.GetResult(request, metadata=self._metadata, timeout=self._timeout)
        return DatasetResult(job_id=job_id, images=list(r.images),
                             pictures={os.path.basename(p.name): p.png for p in r.pictures},
                             embedding=r.embedding if r.HasField("embedding") else None,
                             summary=json.loads(r.summary_json) if r.summary_json else {}, raw=r)

    def explain_dataset(self, dataset: str, model, method: str = "occlusion", progress: bool = False,
                        overlays: bool = False, **params) -> DatasetResult:
        """submit_dataset + watch + dataset_result. Each image's maps: client.result(image.job_id).
        Raises JobFailed if the job fails (an image that fails is a row with state failed, not a failed job)."""
        views = {k: params.pop(k) for k in ("ranking_size", "ranking_channel", "tsne_perplexity", "tsne_iterations") if k in params}
        job_id = self.submit_dataset(dataset, model, method, **params)
        final = self.watch(job_id, progress)
        if final is None or final.state != pb.JOB_STATE_DONE:
            raise JobFailed(final or self.get(job_id))
        return self.dataset_result(job_id, overlays=overlays, **views)

    # --- requests --------------------------------------------------------------------------------------------------

    def _request(self, method: str, model, params: dict):
        params = dict(params)
        pop = params.pop
        request = pb.SubmitJobRequest(
            name=pop("name", ""), seed=int(pop("seed", 0)), priority=int(pop("priority", 0)),
            request_id=pop("request_id", ""), no_cache=bool(pop("no_cache", False)))
        descriptor = dict(_DESCRIPTOR_DEFAULTS)
        labels = None
        if isinstance(model, str) and not os.path.exists(model) and ":" in model and not model.endswith(".onnx"):
            request.model = model  # a registered model: the registry supplies preprocessing and labels
        else:
            descriptor_path = os.path.splitext(os.fspath(model))[0] + ".json"
            if os.path.exists(descriptor_path):
                with open(descriptor_path, encoding="utf-8") as f:
                    descriptor.update({k: v for k, v in json.load(f).items() if k in descriptor})
                if descriptor["labels"]:
                    labels_path = os.path.join(os.path.dirname(descriptor_path), descriptor["labels"])
                    with open(labels_path, encoding="utf-8") as f:
                        labels = f.read().splitlines()
            request.model_sha256 = self.upload_model(model)
            request.preprocessing.CopyFrom(_preprocessing(descriptor, params))
        if "labels" in params:
            value = pop("labels")
            labels = value if isinstance(value, (list, tuple)) else open(value, encoding="utf-8").read().splitlines()
        if labels:
            request.labels.extend(labels)
        if request.model and any(k in params for k in ("input_size", "resize", "channel_order", "scale", "mean", "std", "model_output")):
            request.preprocessing.CopyFrom(_preprocessing(descriptor, params))

        request.targets.CopyFrom(_targets(params))
        score = pop("score", "output")
        if score not in ("output", "probability"):
            raise ValueError(f"score '{score}' is not one of: output, probability")
        request.score = pb.SCORE_KIND_PROBABILITY if score == "probability" else pb.SCORE_KIND_OUTPUT

        if method == "occlusion":
            request.occlusion.CopyFrom(_occlusion(params))
        elif method in ("lime", "kernelshap", "kernel-shap"):
            segmentation = pb.Segmentation(method=pop("segmentation", "slic"), segments=int(pop("segments", 50)),
                                           scale=float(pop("felzenszwalb_scale", 0)))
            hide = pop("hide", "feature-mean")
            hide = pb.Fill(kind=pb.Fill.FEATURE_MEAN) if hide == "feature-mean" else _fill(hide, 0)
            if method == "lime":
                request.lime.CopyFrom(pb.LimeOptions(
                    samples=int(pop("samples", 1000)), segmentation=segmentation, hide=hide,
                    num_features=int(pop("num_features", 0)), feature_selection=pop("feature_selection", ""),
                    mask_features=int(pop("mask_features", 0)), stop_when_stable=bool(pop("stop_when_stable", False)),
                    check_every=int(pop("check_every", 0)), stable_checks=int(pop("stable_checks", 0))))
            else:
                request.kernel_shap.CopyFrom(pb.KernelShapOptions(samples=int(pop("samples", 1000)),
                                                                  segmentation=segmentation, hide=hide))
        elif method == "rise":
            request.rise.CopyFrom(pb.RiseOptions(samples=int(pop("samples", 2000)), cells=int(pop("cells", 0)),
                                                 density=float(pop("density", 0))))
        elif method in _GRADIENT_METHODS:
            gradient = pb.GradientOptions(
                method=method, layer=pop("layer", ""), steps=int(pop("steps", 0)), baseline=pop("baseline", ""),
                integration=pop("integration", ""), smooth_over=pop("smooth_over", ""),
                smooth_samples=int(pop("smooth_samples", 0)), smooth_sigma=float(pop("smooth_sigma", 0)),
                top_channels=int(pop("top_channels", 0)), target_tensor=pop("target_tensor", ""))
            if "twin" in params:
                gradient.twin_model_sha256 = self.upload_model(pop("twin"))
            request.gradient.CopyFrom(gradient)
        elif method == "deep-dream":
            channel = pop("channel", "")
            request.deep_dream.CopyFrom(pb.DeepDreamOptions(
                octaves=int(pop("octaves", 0)), iterations=int(pop("iterations", 0)), start=pop("start", ""), channel=channel))
            if channel:  # the channels are the targets
                request.ClearField("targets")
        else:
            raise ValueError(f"method '{method}' is not one of: occlusion, lime, kernelshap, rise, deep-dream, {', '.join(_GRADIENT_METHODS)}")
        if params:
            raise TypeError(f"unknown or inapplicable parameter(s) for {method}: {', '.join(sorted(params))}")
        return request


def _preprocessing(d: dict, params: dict):
    pop = params.pop
    p = pb.Preprocessing(
        resize=pop("resize", d["resize"]), resize_shorter_side=int(d["resize_shorter_side"]),
        channel_order=pop("channel_order", d["channel_order"]), layout=d["layout"] or "",
        scale=float(pop("scale", d["scale"])), mean=[float(v) for v in pop("mean", d["mean"])],
        std=[float(v) for v in pop("std", d["std"])], output=pop("model_output", d["output"]))
    size = pop("input_size", d["input_size"])
    if size:
        p.height, p.width = _pair(size)
    return p


def _targets(params: dict):
    regions = params.pop("regions", params.pop("region", None))
    classes = params.pop("classes", None)
    top_k = params.pop("top_k", 1)
    if regions:
        result = pb.Targets()
        for r in ([regions] if isinstance(regions, (str, int)) else regions):
            result.regions.append(_region(r))
        return result
    if classes is not None:
        return pb.Targets(classes=[classes] if isinstance(classes, int) else [int(c) for c in classes])
    return pb.Targets(top_k=int(top_k))


def _region(text):
    """"CLASS" (the whole map) or "CLASS:X,Y,WxH" in output pixels, as --region."""
    if isinstance(text, int):
        return pb.Region(class_index=text)
    cls, _, rect = str(text).partition(":")
    region = pb.Region(class_index=int(cls))
    if rect:
        x, y, wh = rect.split(",")
        region.x, region.y = int(x), int(y)
        region.width, region.height = _pair(wh)
    return region


def _occlusion(params: dict):
    pop = params.pop
    occlusion = pb.OcclusionOptions(fill=_fill(pop("fill", "zero"), float(pop("blur_sigma", 10))))
    stride = pop("stride", None)
    stride = _pair(stride) if stride is not None else None
    windows = pop("windows", None)
    window = pop("window", 16)
    sizes = [_pair(w) for w in (windows.split(",") if isinstance(windows, str) else windows)] if windows else [_pair(window)]
    for h, w in sizes:
        sy, sx = stride or (max(1, h // 2), max(1, w // 2))
        occlusion.windows.append(pb.Window(height=h, width=w, stride_y=sy, stride_x=sx))
    occlusion.coarse_to_fine = bool(pop("coarse_to_fine", False))
    if "refine_threshold" in params:
        occlusion.refine_threshold = float(pop("refine_threshold"))
    return occlusion


def _fill(fill, blur_sigma: float):
    if isinstance(fill, (tuple, list)):
        r, g, b = fill
        return pb.Fill(kind=pb.Fill.CONSTANT, r=r, g=g, b=b)
    if fill == "zero":
        return pb.Fill(kind=pb.Fill.ZERO)
    if fill == "mean":
        return pb.Fill(kind=pb.Fill.MEAN)
    if fill == "blur":
        return pb.Fill(kind=pb.Fill.BLUR, blur_sigma=blur_sigma)
    parts = str(fill).split(",")
    if len(parts) == 3:
        return pb.Fill(kind=pb.Fill.CONSTANT, r=float(parts[0]), g=float(parts[1]), b=float(parts[2]))
    raise ValueError(f"fill '{fill}' is not one of: zero, mean, blur, R,G,B")


def _pair(value):
    """16 -> (16, 16); "16x24" or (16, 24) -> (16, 24), height first."""
    if isinstance(value, int):
        return value, value
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    parts = str(value).lower().split("x")
    return (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))


def _image_files(images) -> list:
    """A directory's image files, a glob's matches, or the given paths, ordered by file name as the CLI orders them."""
    if isinstance(images, (str, os.PathLike)):
        images = os.fspath(images)
        if os.path.isdir(images):
            paths = [os.path.join(images, n) for n in os.listdir(images)
                     if n.lower().endswith(_IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(images, n))]
        elif any(c in images for c in "*?"):
            paths = glob.glob(images)
        else:
            paths = [images]
    else:
        paths = [os.fspath(p) for p in images]
    paths = sorted(paths, key=os.path.basename)
    if not paths:
        raise ValueError(f"no images in {images}")
    return paths


def _read_labels(path) -> dict:
    """A CSV of "file name,label" rows (a header "file,label" is skipped), as `lantern datasets create --labels`."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r]
    if rows and [c.strip().lower() for c in rows[0][:2]] in (["file", "label"], ["file_name", "label"]):
        rows = rows[1:]
    return {r[0].strip(): r[1].strip() for r in rows if len(r) >= 2}


def _read(source):
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), ""
    with open(source, "rb") as f:
        return f.read(), os.path.basename(source)


def _chunks(data: bytes, name: str):
    yield pb.UploadChunk(data=data[:_CHUNK], file_name=name)
    for offset in range(_CHUNK, len(data), _CHUNK):
        yield pb.UploadChunk(data=data[offset:offset + _CHUNK])


def _array(m) -> np.ndarray:
    shape = (m.height, m.width, 3) if m.kind == "dream" else (m.height, m.width)  # a dream is RGB per pixel
    return np.frombuffer(m.data, dtype="<f4").reshape(shape).astype(np.float32, copy=False)


def _stem(m) -> str:
    if m.window != 0:
        return f"{m.target_class}-w{m.window}"
    if m.region != 0:
        return f"{m.target_class}-r{m.region}"
    return f"{m.target_class}"


def _draw_bar(p):
    total = max(1, p.items_total)
    done = min(p.items_done, total)
    width = 30
    filled = int(width * done / total)
    left = f" {p.seconds_left:.0f} s left" if p.HasField("seconds_left") else ""
    sys.stderr.write(f"\r{state_name(p.state):9} [{'#' * filled}{'.' * (width - filled)}] {100 * done // total:3d}% "
                     f"{p.evaluations} evaluations{left}   ")
    sys.stderr.flush()
