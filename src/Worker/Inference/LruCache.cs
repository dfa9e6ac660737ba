namespace Lantern.Worker.Inference;

/// <summary>
/// A least-recently-used cache bounded by a budget over the weights of its values (a count when every weight is 1,
/// bytes for model sessions). The newest entry is always kept, even alone over budget. Evicted disposable values are
/// disposed.
/// </summary>
public sealed class LruCache<TKey, TValue>(long budget, Func<TValue, long>? weight = null) where TKey : notnull
{
    private readonly LinkedList<(TKey Key, TValue Value)> _order = [];
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value)>> _nodes = [];
    private readonly Func<TValue, long> _weight = weight ?? (_ => 1);
    private long _total;

    public IEnumerable<TKey> Keys => _nodes.Keys;

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
        _total += _weight(value);
        while (_total > budget && _order.Count > 1)
        {
            var last = _order.Last!;
            _order.RemoveLast();
            _nodes.Remove(last.Value.Key);
            _total -= _weight(last.Value.Value);
            (last.Value.Value as IDisposable)?.Dispose();
        }
    }

    /// <summary>Drops and disposes the entry of <paramref name="key"/>, if there is one.</summary>
    public void Remove(TKey key)
    {
        if (!_nodes.Remove(key, out var node)) return;
        _order.Remove(node);
        _total -= _weight(node.Value.Value);
        (node.Value.Value as IDisposable)?.Dispose();
    }

    public void Clear()
    {
        foreach (var (_, value) in _order) (value as IDisposable)?.Dispose();
        _order.Clear();
        _nodes.Clear();
        _total = 0;
    }
}
