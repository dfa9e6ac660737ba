using System.Text.RegularExpressions;
using Google.Protobuf;
using Lantern.Contracts.Api;
using Lantern.Gradients;
using Lantern.Storage;

namespace Lantern.Gateway.Mapping;

/// <summary>
/// The model registry as the gateway uses it: checks and registers models under a team's <c>name:version</c>, and
/// completes a submit that names one (its hash, preprocessing and labels). Nodes without the database have no registry.
/// </summary>
/// <param name="registry">Null on a node without the database (and in the bench): naming a registered model then fails clearly.</param>
public sealed partial class RegisteredModels(ArtifactCatalog catalog, IArtifactStore artifacts, GradientModels gradients,
    IModelRegistry? registry = null)
{
    private readonly IModelRegistry? _registry = registry;

    public async Task<RegisteredModel> PushAsync(PushModelRequest request, string team, string user, CancellationToken cancellationToken)
    {
        CheckName(request.Name, "name", 64);
        CheckName(request.Version, "version", 32);
        if (request.ModelSha256.Length == 0) GrpcErrors.InvalidArgument("model_sha256 is required: upload the model with UploadModel first");
        if (request.Description.Length > 4096) GrpcErrors.InvalidArgument("the description is longer than 4096 characters");
        if (request.Labels.Any(l => l.Contains('\n') || l.Contains('\r')))
            GrpcErrors.InvalidArgument("a label may not contain a line break (one label per class)");
        var registry = Registry();
        var info = await catalog.ModelAsync(request.ModelSha256, cancellationToken);
        var preprocessing = JobRequestMapping.ResolvePreprocessing(request.Preprocessing, info);
        if (info.ClassCount > 0 && request.Labels.Count > 0 && request.Labels.Count != info.ClassCount)
            GrpcErrors.InvalidArgument($"the label file has {request.Labels.Count} labels; the model has {info.ClassCount} classes");
        var bytes = await artifacts.GetAsync(request.ModelSha256, cancellationToken)
                    ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound, $"no model with sha256 {request.ModelSha256}"));
        ModelCheck.Run(bytes, info, preprocessing);

        var row = new RegisteredModelRow(team, request.Name, request.Version, request.ModelSha256, request.Description,
            preprocessing.ToByteArray(), [.. request.Labels], user, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (!await registry.AddAsync(row, cancellationToken))
            throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.AlreadyExists,
                $"{request.Name}:{request.Version} is already registered; push a new version, or remove this one first"));
        return ToApi(row, info, withLabels: true);
    }

    public async Task<IReadOnlyList<RegisteredModel>> ListAsync(string team, CancellationToken cancellationToken)
    {
        var rows = await Registry().ListAsync(team, cancellationToken);
        var models = new List<RegisteredModel>();
        foreach (var row in rows) models.Add(ToApi(row, await catalog.ModelAsync(row.ModelSha256, cancellationToken), withLabels: false));
        return models;
    }

    /// <summary>The model with its labels and the layers Grad-CAM can use.</summary>
    public async Task<RegisteredModel> GetAsync(string reference, string team, CancellationToken cancellationToken)
    {
        var row = await FindAsync(reference, team, cancellationToken);
        var info = await catalog.ModelAsync(row.ModelSha256, cancellationToken);
        var model = ToApi(row, info, withLabels: true);
        var p = model.Preprocessing;
        long[] inputShape = info.ChannelsFirst ? [3, p.Height, p.Width] : [p.Height, p.Width, 3];
        var bytes = await artifacts.GetAsync(row.ModelSha256, cancellationToken) ?? [];
        try
        {
            model.Layers.Add(gradients.Layers(row.ModelSha256, bytes, inputShape).Select(l => new ModelLayer
            {
                Name = l.Name, OpType = l.OpType, Shape = { l.Shape }, GradcamDefault = l.IsDefaultCamLayer,
            }));
        }
        catch (Grpc.Core.RpcException)
        {
            // A model the gradient builder cannot differentiate still explains by the sampling methods: no layers to list.
        }
        return model;
    }

    public async Task RemoveAsync(string reference, string team, CancellationToken cancellationToken)
    {
        var (name, version) = Parse(reference);
        if (!await Registry().RemoveAsync(team, name, version, cancellationToken))
            GrpcErrors.NotFound($"no registered model {reference}; `lantern models list` shows them");
    }

    /// <summary>
    /// A submit naming a registered model (<c>model = "name:version"</c>) becomes one naming its hash, with the registered
    /// preprocessing and labels unless the request gives its own. A request naming a hash is returned unchanged.
    /// </summary>
    public async Task<SubmitJobRequest> ResolveAsync(SubmitJobRequest request, string team, CancellationToken cancellationToken)
    {
        if (request.Model.Length == 0) return request;
        if (request.ModelSha256.Length > 0)
            GrpcErrors.InvalidArgument("name the model either by model (name:version) or by model_sha256, not both");
        var row = await FindAsync(request.Model, team, cancellationToken);
        var resolved = request.Clone();
        resolved.ModelSha256 = row.ModelSha256;
        resolved.Model = "";
        resolved.Preprocessing ??= Preprocessing.Parser.ParseFrom(row.Preprocessing);
        if (resolved.Labels.Count == 0) resolved.Labels.Add(row.Labels);
        return resolved;
    }

    private async Task<RegisteredModelRow> FindAsync(string reference, string team, CancellationToken cancellationToken)
    {
        var (name, version) = Parse(reference);
        return await Registry().GetAsync(team, name, version, cancellationToken)
               ?? throw new Grpc.Core.RpcException(new Grpc.Core.Status(Grpc.Core.StatusCode.NotFound,
                   $"no registered model {reference}; `lantern models list` shows them, `lantern models push` adds one"));
    }

    private IModelRegistry Registry()
    {
        if (_registry is null)
            GrpcErrors.FailedPrecondition("this node has no database, so no model registry; ask a gateway node");
        return _registry!;
    }

    private static (string Name, string Version) Parse(string reference)
    {
        var colon = reference.LastIndexOf(':');
        if (colon <= 0 || colon == reference.Length - 1 || reference.Length > 97)
            GrpcErrors.InvalidArgument($"'{Truncate(reference)}' is not name:version, e.g. resnet50:1");
        var (name, version) = (reference[..colon], reference[(colon + 1)..]);
        CheckName(name, "name", 64);
        CheckName(version, "version", 32);
        return (name, version);
    }

    private static void CheckName(string value, string field, int maxLength)
    {
        if (value.Length == 0 || value.Length > maxLength || !NamePattern().IsMatch(value))
            GrpcErrors.InvalidArgument(
                $"model {field} '{Truncate(value)}' must be 1 to {maxLength} letters, digits, '.', '_' or '-', starting with a letter or digit");
    }

    private static string Truncate(string value) => value.Length <= 100 ? value : value[..100] + "…";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex NamePattern();

    private static RegisteredModel ToApi(RegisteredModelRow row, Models.OnnxModelInfo info, bool withLabels)
    {
        var model = new RegisteredModel
        {
            Name = row.Name, Version = row.Version, ModelSha256 = row.ModelSha256, Description = row.Description,
            Preprocessing = Preprocessing.Parser.ParseFrom(row.Preprocessing), LabelCount = row.Labels.Count, Team = row.Team,
            RegisteredBy = row.RegisteredBy, RegisteredUnixMs = row.RegisteredUnixMs, Model = JobResultMapping.ToApi(info),
        };
        if (withLabels) model.Labels.Add(row.Labels);
        return model;
    }
}
