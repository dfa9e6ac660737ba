using System.Collections.Concurrent;
using Lantern.Explainers.Imaging;
using Lantern.Gateway.Hosting;
using Lantern.Gateway.Quotas;
using Lantern.Gateway.Uploads;
using Lantern.Imaging;
using Lantern.Models;
using Lantern.Storage;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// Validates uploads and remembers what they are (model shapes, image sizes) by content hash, so a submit does not
/// parse a model or decode an image again.
/// </summary>
public sealed class ArtifactCatalog(IArtifactStore store, GatewayOptions options, DecodeBudget budget)
{
    private readonly ConcurrentDictionary<string, OnnxModelInfo> _models = new();
    private readonly ConcurrentDictionary<string, (int Width, int Height)> _images = new();

    /// <summary>Checks the spooled model (reading its outline, not its weights) and stores it from the file.</summary>
    public async Task<(ArtifactPut Put, OnnxModelInfo Info)> PutModelAsync(SpooledUpload upload, CancellationToken cancellationToken)
    {
        if (upload.Length == 0) GrpcErrors.InvalidArgument("the model upload was empty; send the .onnx file's bytes");
        var info = InspectModel(() => OnnxModelInspector.Inspect(upload.Rewind()));
        var put = await store.PutAsync(upload.Rewind(), upload.Sha256, upload.Length, "model", cancellationToken);
        _models[put.Sha256] = info;
        return (put, info);
    }

    public Task<(ArtifactPut Put, int Width, int Height)> PutImageAsync(byte[] bytes, CancellationToken cancellationToken) =>
        PutImageAsync(bytes, options.Quotas, cancellationToken);

    /// <summary>
    /// Checks the size the header claims against the caller's image_pixels quota before a pixel is decoded, then
    /// decodes (to validate the whole file) within the node's shared decode budget; bytes this gateway decoded before are
    /// not decoded again.
    /// </summary>
    public async Task<(ArtifactPut Put, int Width, int Height)> PutImageAsync(byte[] bytes, QuotaLimits limits, CancellationToken cancellationToken)
    {
        if (bytes.Length == 0) GrpcErrors.InvalidArgument("the image upload was empty; send a JPEG or PNG file's bytes");
        var (width, height) = Identify(bytes);
        QuotaPolicy.Check(limits, QuotaLimits.ImagePixels, (long)width * height, $"the image's size ({width}x{height} in its header)",
            "downscale it first");
        if (!_images.TryGetValue(ContentHash.Sha256(bytes), out var size))
        {
            var image = await DecodeImageAsync(bytes, cancellationToken);
            size = (image.Width, image.Height);
        }
        var put = await store.PutAsync(bytes, "image", cancellationToken);
        _images[put.Sha256] = size;
        return (put, size.Width, size.Height);
    }

    /// <summary>Whether the store holds these bytes (of any kind).</summary>
    public Task<bool> HoldsAsync(string sha256, CancellationToken cancellationToken) => store.ExistsAsync(sha256, cancellationToken);

    public async Task<OnnxModelInfo> ModelAsync(string sha256, CancellationToken cancellationToken)
    {
        if (_models.TryGetValue(sha256, out var info)) return info;
        var bytes = await FetchAsync(sha256, "model", "UploadModel", cancellationToken);
        return _models[sha256] = InspectModel(bytes);
    }

    public async Task<(int Width, int Height)> ImageSizeAsync(string sha256, CancellationToken cancellationToken)
    {
        if (_images.TryGetValue(sha256, out var size)) return size;
        var image = await DecodeImageAsync(await FetchAsync(sha256, "image", "UploadImage", cancellationToken), cancellationToken);
        return _images[sha256] = (image.Width, image.Height);
    }

    public async Task<RgbImage> ImageAsync(string sha256, CancellationToken cancellationToken) =>
        await DecodeImageAsync(await FetchAsync(sha256, "image", "UploadImage", cancellationToken), cancellationToken);

    /// <summary>The most bytes an upload of this kind may have for this caller.</summary>
    public long MaxBytes(string kind, QuotaLimits limits) => kind == "model" ? limits.MaxModelBytes : options.MaxImageBytes;

    private async Task<byte[]> FetchAsync(string sha256, string kind, string upload, CancellationToken cancellationToken)
    {
        if (!ContentHash.IsWellFormed(sha256))
            GrpcErrors.InvalidArgument($"'{sha256}' is not a {kind} reference: use the sha256 (64 lowercase hex digits) that {upload} returned");
        return await store.GetAsync(sha256, cancellationToken)
               ?? throw NotFound($"no {kind} with sha256 {sha256}; upload it first with {upload}");
    }

    private static OnnxModelInfo InspectModel(byte[] bytes) => InspectModel(() => OnnxModelInspector.Inspect(bytes));

    private static OnnxModelInfo InspectModel(Func<OnnxModelInfo> inspect)
    {
        try
        {
            return inspect();
        }
        catch (InvalidModelException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            return null;
        }
    }

    private static (int Width, int Height) Identify(byte[] bytes)
    {
        try
        {
            return ImageDecoder.Identify(bytes);
        }
        catch (InvalidImageException e)
        {
            GrpcErrors.InvalidArgument(e.Message);
            return default;
        }
    }

    /// <summary>Decodes within the shared budget: the decode's share is taken first and given back when it ends.</summary>
    private async Task<RgbImage> DecodeImageAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        var (width, height) = Identify(bytes);
        IDisposable lease;
        try
        {
            lease = await budget.AcquireAsync(width, height, options.DecodeWait, cancellationToken);
        }
        catch (DecodeBudgetExhaustedException e)
        {
            GrpcErrors.ResourceExhausted(e.Message);
            return null;
        }
        using (lease)
        {
            try
            {
                return ImageDecoder.Decode(bytes);
            }
            catch (InvalidImageException e)
            {
                GrpcErrors.InvalidArgument(e.Message);
                return null;
            }
        }
    }

    private static Grpc.Core.RpcException NotFound(string message) =>
        new(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, message));
}
