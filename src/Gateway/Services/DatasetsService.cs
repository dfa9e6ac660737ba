using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Gateway.Auth;
using Lantern.Gateway.Mapping;

namespace Lantern.Gateway.Services;

/// <summary>
/// lantern.v1.Datasets: named, versioned lists of uploaded images with labels. Every call is scoped to the caller's
/// team, as the model registry's are; another team's dataset answers as one that does not exist.
/// </summary>
public sealed class DatasetsService(RegisteredDatasets datasets) : Datasets.DatasetsBase
{
    public override async Task<FindImagesResponse> FindImages(FindImagesRequest request, ServerCallContext context) =>
        new() { Present = { await datasets.FindImagesAsync(request.Sha256, context.Caller(), context.CancellationToken) } };

    public override Task<Dataset> CreateDataset(CreateDatasetRequest request, ServerCallContext context) =>
        datasets.CreateAsync(request, context.Caller(), context.CancellationToken);

    public override async Task<ListDatasetsResponse> ListDatasets(ListDatasetsRequest request, ServerCallContext context) =>
        new() { Datasets = { await datasets.ListAsync(context.Caller().Team, context.CancellationToken) } };

    public override Task<Dataset> GetDataset(GetDatasetRequest request, ServerCallContext context) =>
        datasets.GetAsync(request, context.Caller().Team, context.CancellationToken);

    public override async Task<DeleteDatasetResponse> DeleteDataset(DeleteDatasetRequest request, ServerCallContext context) =>
        new() { VersionsRemoved = await datasets.DeleteAsync(request.Dataset, context.Caller().Team, context.CancellationToken) };
}
