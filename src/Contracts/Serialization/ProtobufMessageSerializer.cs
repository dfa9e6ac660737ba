using System.Collections.Frozen;
using Akka.Actor;
using Akka.Serialization;
using Google.Protobuf;
using System.Runtime.Serialization;
using Lantern.Contracts.Messages;

namespace Lantern.Contracts.Serialization;

/// <summary>
/// Serialises every <see cref="ILanternMessage"/> as protobuf. The manifest is the message's protobuf full name
/// (e.g. <c>lantern.cluster.ItemScored</c>), so persisted events survive C# renames and moves.
/// </summary>
public sealed class ProtobufMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    /// <summary>Akka reserves 0–100; this id must never change once events are persisted.</summary>
    public const int SerializerId = 4171;

    /// <summary>Every message of every lantern.cluster .proto file that is an <see cref="ILanternMessage"/>.</summary>
    private static readonly FrozenDictionary<string, MessageParser> ParsersByName = typeof(ILanternMessage).Assembly.GetTypes()
        .Where(t => typeof(ILanternMessage).IsAssignableFrom(t) && typeof(IMessage).IsAssignableFrom(t) && !t.IsAbstract)
        .Select(t => ((IMessage)Activator.CreateInstance(t)!).Descriptor)
        .ToFrozenDictionary(d => d.FullName, d => d.Parser);

    public override int Identifier => SerializerId;

    public override byte[] ToBinary(object obj) => obj switch
    {
        IMessage message => message.ToByteArray(),
        _ => throw new ArgumentException($"{obj.GetType()} is not a protobuf message", nameof(obj)),
    };

    public override object FromBinary(byte[] bytes, string manifest) =>
        ParsersByName.TryGetValue(manifest, out var parser)
            ? parser.ParseFrom(bytes)
            : throw new SerializationException($"Unknown Lantern message manifest '{manifest}'");

    public override string Manifest(object o) => o switch
    {
        IMessage message => message.Descriptor.FullName,
        _ => throw new ArgumentException($"{o.GetType()} is not a protobuf message", nameof(o)),
    };

    /// <summary>The message types this serializer is bound to in Akka's configuration.</summary>
    public static IReadOnlyList<Type> BoundTypes { get; } = [typeof(ILanternMessage)];

}
