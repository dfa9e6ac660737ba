using Lantern.Gateway.Auth;
using Grpc.Core;
using Lantern.Contracts.Api;
using Lantern.Gateway.Mapping;

namespace Lantern.Gateway.Services;

/// <summary>
/// lantern.v1.Models: the model registry. Every call is scoped to the caller's team; an open node has one user, "", in
/// team ""; with keys, the caller's own team.
/// </summary>
public sealed class ModelsService(RegisteredModels models) : Contracts.Api.Models.ModelsBase
{
    public override Task<RegisteredModel> PushModel(PushModelRequest request, ServerCallContext context) =>
        models.PushAsync(request, Team(context), User(context), context.CancellationToken);

    public override async Task<ListModelsResponse> ListModels(ListModelsRequest request, ServerCallContext context) =>
        new() { Models = { await models.ListAsync(Team(context), context.CancellationToken) } };

    public override Task<RegisteredModel> GetModel(GetModelRequest request, ServerCallContext context) =>
        models.GetAsync(request.Model, Team(context), context.CancellationToken);

    public override async Task<RemoveModelResponse> RemoveModel(RemoveModelRequest request, ServerCallContext context)
    {
        await models.RemoveAsync(request.Model, Team(context), context.CancellationToken);
        return new RemoveModelResponse();
    }

    // The caller's identity: fixed on an open node until API keys land (issue 12, part 1), which set both from the key.
    private static string Team(ServerCallContext context) => context.Caller().Team;

    private static string User(ServerCallContext context) => context.Caller().Name;
}
