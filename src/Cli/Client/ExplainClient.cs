using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Lantern.Contracts.Api;

namespace Lantern.Cli.Client;

/// <summary>
/// Runs an explanation against any Lantern gateway, local or remote, through the public gRPC API only:
/// upload model and image, submit, watch, fetch the result.
/// </summary>
public sealed class ExplainClient(GrpcChannel channel, string? apiKey = null) : IDisposable
{
    private const int ChunkSize = 1 << 20;
    private readonly Contracts.Api.Lantern.LanternClient _client = new(WithKey(channel, apiKey));

    /// <param name="apiKey">Sent as <c>authorization: Bearer KEY</c> on every call; null for an open node.</param>
    /// <param name="caCertificate">PEM file of the CA an https:// gateway's certificate must chain to; null: the system's.</param>
    public static ExplainClient Connect(Uri gateway, string? apiKey = null, string? caCertificate = null) =>
        new(GrpcChannels.For(gateway, caCertificate), apiKey);

    public Contracts.Api.Lantern.LanternClient Api => _client;

    /// <summary>The connection (without the key: use <see cref="Api"/>, <see cref="Models"/> or <see cref="Admin"/> to call).</summary>
    public GrpcChannel Channel => channel;

    /// <summary>The model registry on the same gateway and key.</summary>
    public Contracts.Api.Models.ModelsClient Models { get; } = new(WithKey(channel, apiKey));

    /// <summary>The datasets on the same gateway and key.</summary>
    public Contracts.Api.Datasets.DatasetsClient Datasets { get; } = new(WithKey(channel, apiKey));

    /// <summary>The admin service on the same gateway and key.</summary>
    public Admin.AdminClient Admin { get; } = new(WithKey(channel, apiKey));

    /// <summary>
    /// Metadata rather than call credentials: gRPC only sends call credentials over TLS, and a gateway on a private
    /// network or behind a TLS-terminating proxy is plain HTTP/2.
    /// </summary>
    private static CallInvoker WithKey(GrpcChannel channel, string? apiKey) => apiKey is { Length: > 0 }
        ? channel.Intercept(metadata =>
        {
            metadata.Add("authorization", $"Bearer {apiKey}");
            return metadata;
        })
        : channel.CreateCallInvoker();

    /// <summary>How the result's overlays are drawn (--colormap, --alpha, --sign); null: the gateway's defaults.</summary>
    public OverlayStyle? OverlayStyle { get; set; }

    /// <summary>Dataset jobs: images in each max/min-activating picture (0: the gateway's default).</summary>
    public int RankingSize { get; set; }

    /// <summary>Dataset jobs of method tsne: the t-SNE's perplexity (0: the gateway's default).</summary>
    public float TsnePerplexity { get; set; }

    /// <summary>Dataset jobs of method pooled-activations: the channel to rank the images by (null: none).</summary>
    public int? RankingChannel { get; set; }

    public async Task<ArtifactRef> UploadModelAsync(byte[] bytes, string fileName, CancellationToken cancellationToken = default)
    {
        using var call = _client.UploadModel(cancellationToken: cancellationToken);
        return await UploadAsync(call, bytes, fileName, cancellationToken);
    }

    public async Task<ArtifactRef> UploadImageAsync(byte[] bytes, string fileName, CancellationToken cancellationToken = default)
    {
        using var call = _client.UploadImage(cancellationToken: cancellationToken);
        return await UploadAsync(call, bytes, fileName, cancellationToken);
    }

    /// <summary>
    /// Puts the files on the gateway and returns their SHA-256s in order, uploading only those the gateway does not hold
    /// for this caller (FindMissingArtifacts on hashes computed here): a model the cluster has already costs one round
    /// trip, not its upload. A gateway without FindMissingArtifacts, or <paramref name="uploadAll"/>, gets every file.
    /// </summary>
    /// <returns>The hashes, and whether any file was not uploaded because the gateway said it held it.</returns>
    public async Task<(string[] Sha256, bool Skipped)> PutAsync(IReadOnlyList<Upload> files, bool uploadAll = false,
        CancellationToken cancellationToken = default)
    {
        var hashes = files.Select(f => Storage.ContentHash.Sha256(f.Bytes)).ToArray();
        var missing = uploadAll ? null : await MissingAsync(hashes, cancellationToken);
        var skipped = false;
        for (var i = 0; i < files.Count; i++)
        {
            if (missing is not null && !missing.Contains(hashes[i]))
            {
                skipped = true;
                continue;
            }
            var file = files[i];
            var put = file.IsModel
                ? await UploadModelAsync(file.Bytes, file.FileName, cancellationToken)
                : await UploadImageAsync(file.Bytes, file.FileName, cancellationToken);
            hashes[i] = put.Sha256;
        }
        return (hashes, skipped);
    }

    /// <summary>Which of the hashes the gateway lacks for this caller; null when it cannot say (it predates the call).</summary>
    private async Task<HashSet<string>?> MissingAsync(string[] hashes, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await _client.FindMissingArtifactsAsync(new FindMissingArtifactsRequest { Sha256 = { hashes.Distinct() } },
                cancellationToken: cancellationToken);
            return [.. reply.MissingSha256];
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Unimplemented)
        {
            return null;
        }
    }

    /// <summary>Streams progress until the job ends; returns the last progress seen.</summary>
    public async Task<JobProgress> WatchAsync(string jobId, Action<JobProgress> onProgress, CancellationToken cancellationToken = default)
    {
        using var call = _client.WatchJob(new WatchJobRequest { JobId = jobId }, cancellationToken: cancellationToken);
        JobProgress? last = null;
        await foreach (var progress in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            onProgress(progress);
            last = progress;
        }
        return last ?? throw new InvalidOperationException($"the gateway closed the progress stream of job {jobId} without a word");
    }

    public async Task<JobResult> RunAsync(SubmitJobRequest submit, byte[] model, string modelName, byte[] image, string imageName,
        Action<JobProgress> onProgress, CancellationToken cancellationToken = default)
    {
        var jobId = await SubmitAsync(submit, model, modelName, image, imageName, cancellationToken);
        return await FinishAsync(jobId, onProgress, cancellationToken);
    }

    /// <summary>
    /// Puts the model (unless <paramref name="model"/> is null: the request names a registered model) and the image on
    /// the gateway, uploading what it lacks (<see cref="PutAsync"/>), and submits; returns the job id.
    /// </summary>
    public async Task<string> SubmitAsync(SubmitJobRequest submit, byte[]? model, string modelName, byte[] image, string imageName,
        CancellationToken cancellationToken = default)
    {
        List<Upload> files = model is null ? [] : [new Upload(model, modelName, IsModel: true)];
        files.Add(new Upload(image, imageName, IsModel: false));
        for (var uploadAll = false; ; uploadAll = true)
        {
            var (hashes, skipped) = await PutAsync(files, uploadAll, cancellationToken);
            if (model is not null) submit.ModelSha256 = hashes[0];
            submit.ImageSha256 = hashes[^1];
            try
            {
                return (await _client.SubmitJobAsync(submit, cancellationToken: cancellationToken)).JobId;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.NotFound && skipped && !uploadAll)
            {
                // A file the gateway held a moment ago is gone (its retention let it go in between): upload and submit again.
            }
        }
    }

    /// <summary>Watches a submitted job to its end and fetches its result (with overlays); throws unless it is done.</summary>
    public async Task<JobResult> FinishAsync(string jobId, Action<JobProgress> onProgress, CancellationToken cancellationToken = default)
    {
        var final = await WatchAsync(jobId, onProgress, cancellationToken);
        if (final.State != JobState.Done)
            throw new InvalidOperationException($"job {jobId} ended {final.State}: {final.Error}");
        var request = new GetResultRequest
        {
            JobId = jobId, IncludeOverlays = true, OverlayStyle = OverlayStyle, RankingSize = RankingSize, TsnePerplexity = TsnePerplexity,
        };
        if (RankingChannel is { } channel) request.RankingChannel = channel;
        return await _client.GetResultAsync(request,
            cancellationToken: cancellationToken);
    }

    private static async Task<ArtifactRef> UploadAsync(AsyncClientStreamingCall<UploadChunk, ArtifactRef> call, byte[] bytes,
        string fileName, CancellationToken cancellationToken)
    {
        // A gateway that refuses (too large, over quota) answers mid-stream: the answer, not the next write, ends the upload.
        return await await ClientStreamUpload.SendUntilAnsweredAsync(call, Chunks(bytes, fileName), cancellationToken: cancellationToken);
    }

    private static IEnumerable<UploadChunk> Chunks(byte[] bytes, string fileName)
    {
        for (var offset = 0; offset < bytes.Length || offset == 0; offset += ChunkSize)
        {
            var chunk = new UploadChunk { Data = ByteString.CopyFrom(bytes, offset, Math.Min(ChunkSize, bytes.Length - offset)) };
            if (offset == 0) chunk.FileName = fileName;
            yield return chunk;
            if (bytes.Length == 0) yield break;
        }
    }

    public void Dispose() => channel.Dispose();
}

/// <summary>A file to put on the gateway: an ONNX model or an image, with the name listings show.</summary>
public sealed record Upload(byte[] Bytes, string FileName, bool IsModel);
