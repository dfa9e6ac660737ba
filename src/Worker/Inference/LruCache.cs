namespace Lantern.Worker.Inference;

/// <summary>A small least-recently-used cache; evicted values are disposed when they are disposable.</summary>
public sealed class LruCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly LinkedList<(TKey Key, TValue Value)> _order = [];
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _nodes = [];

    public bool TryGet(TKey key, out TValue value)
    {
        if (_nodes.TryGetValue(key, out var node))
        {
            _order.Remove(node);
            _order.AddFirst(node);
            value = node.Value.Value;
            return true;
        }
        value = default!;
        return false;
    }

    public void Add(TKey key, TValue value)
    {
        _nodes[key] = _order.AddFirst((key, value));
        while (_order.Count > Math.Max(1, capacity))
        {
            var last = _order.Last!;
            _order.RemoveLast();
            _nodes.Remove(last.Value.Key);
            (last.Value.Value as IDisposable)?.Dispose();
        }
    }

    public IEnumerable<TKey> Keys => _nodes.Keys;

    public void Clear()
    {
        foreach (var (_, value) in _order) (value as IDisposable)?.Dispose();
        _order.Clear();
        _nodes.Clear();
    }
}
