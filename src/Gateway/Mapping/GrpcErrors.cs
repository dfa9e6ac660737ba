using System.Diagnostics.CodeAnalysis;
using Grpc.Core;

namespace Lantern.Gateway.Mapping;

/// <summary>Errors are answers: each says what to change. One helper per status code the API uses.</summary>
public static class GrpcErrors
{
    [DoesNotReturn]
    public static void InvalidArgument(string message) => throw new RpcException(new Status(StatusCode.InvalidArgument, message));

    /// <summary>For expressions that must have a type: <c>x ?? GrpcErrors.InvalidArgument&lt;T&gt;("…")</c>.</summary>
    [DoesNotReturn]
    public static T InvalidArgument<T>(string message) => throw new RpcException(new Status(StatusCode.InvalidArgument, message));

    [DoesNotReturn]
    public static void NotFound(string message) => throw new RpcException(new Status(StatusCode.NotFound, message));

    [DoesNotReturn]
    public static void ResourceExhausted(string message) => throw new RpcException(new Status(StatusCode.ResourceExhausted, message));

    [DoesNotReturn]
    public static void FailedPrecondition(string message) => throw new RpcException(new Status(StatusCode.FailedPrecondition, message));

    [DoesNotReturn]
    public static void Unavailable(string message) => throw new RpcException(new Status(StatusCode.Unavailable, message));
}
