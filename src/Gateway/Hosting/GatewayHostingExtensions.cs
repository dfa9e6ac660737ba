using Lantern.Gateway.Mapping;
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
            grpc.MaxReceiveMessageSize = 16 << 20;  // upload chunks; whole files stream in many of them
            grpc.MaxSendMessageSize = null;         // results carry every map
        });
        services.AddGrpcReflection();
        return services
            .AddSingleton(options)
            .AddSingleton<ArtifactCatalog>()
            .AddSingleton<GradientModels>()
            .AddSingleton<JobRequestMapping>()
            .AddSingleton<JobResultMapping>();
    }

    public static IEndpointRouteBuilder MapGateway(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<LanternService>();
        endpoints.MapGrpcReflectionService();
        return endpoints;
    }
}
