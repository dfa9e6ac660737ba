using Lantern.Gateway.Auth;
using Lantern.Gateway.Mapping;
using Lantern.Gateway.Quotas;
using Lantern.Imaging;
using Lantern.Gateway.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Lantern.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewayOptions options)
    {
        services.AddGrpc(grpc =>
        {
            grpc.Interceptors.Add<ApiKeyInterceptor>();
            grpc.MaxReceiveMessageSize = 16 << 20;  // upload chunks; whole files stream in many of them
            grpc.MaxSendMessageSize = null;         // results carry every map
        });
        services.AddGrpcReflection();
        return services
            .AddSingleton(options)
            .AddSingleton(new DecodeBudget(options.DecodeMemoryBytes))
            .AddSingleton<QuotaPolicy>()
            .AddSingleton<ArtifactCatalog>()
            .AddSingleton<GradientModels>()
            .AddSingleton<JobRequestMapping>()
            .AddSingleton<JobResultMapping>()
            .AddSingleton<ResultReuse>()
            .AddSingleton<RegisteredModels>()
            .AddSingleton<RegisteredDatasets>()
            .AddSingleton<DatasetRanking>()
            .AddSingleton<Contracts.Cluster.IDatasetImagePlanner, DatasetImagePlanner>();
    }

    /// <summary>The Admin service alone (users, keys, quotas), for a host that only manages the database.</summary>
    public static IServiceCollection AddGatewayAdmin(this IServiceCollection services, GatewayOptions options)
    {
        services.AddGrpc(grpc => grpc.Interceptors.Add<ApiKeyInterceptor>());
        return services.AddSingleton(options).AddSingleton<QuotaPolicy>();
    }

    public static IEndpointRouteBuilder MapGatewayAdmin(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<AdminService>();
        return endpoints;
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<LanternService>();
        endpoints.MapGrpcService<ModelsService>();
        endpoints.MapGrpcService<DatasetsService>();
        endpoints.MapGrpcService<AdminService>();
        endpoints.MapGrpcReflectionService();
        return endpoints;
    }
}
