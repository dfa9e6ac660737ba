namespace Lantern.Contracts.Messages;

/// <summary>Every message that crosses a node boundary or is persisted; bound to the protobuf serializer.</summary>
public interface ILanternMessage;

/// <summary>Commands for the job entity; the job id routes them to their shard.</summary>
public interface IJobCommand : ILanternMessage
{
    string JobId { get; }
}

/// <summary>Events the job entity persists.</summary>
public interface IJobEvent : ILanternMessage;

/// <summary>Messages of the work-pulling protocol between dispatcher and workers.</summary>
public interface IDispatchMessage : ILanternMessage;
