"""Python client of a Lantern cluster: explanations (occlusion, LIME, Grad-CAM, ...) of ONNX image models.

    from lantern_client import Client
    client = Client("127.0.0.1:5000")
    result = client.explain("golden_retriever.jpg", model="squeezenet1.0.onnx", method="occlusion", window=32, stride=16)
    result.maps[207]       # float32 numpy array, the image's height x width
    result.summary         # the summary dict (summary.json)

The generated gRPC stubs are in lantern_client.pb (messages) and lantern_client.rpc (LanternStub), for anything the
friendly layer does not cover.
"""

from lantern_client._generated.lantern.v1 import lantern_pb2 as pb
from lantern_client._generated.lantern.v1 import lantern_pb2_grpc as rpc
from lantern_client.client import Client, DatasetResult, Result, JobFailed
from lantern_client.images import encode_png

__all__ = ["Client", "DatasetResult", "Result", "JobFailed", "encode_png", "pb", "rpc"]
