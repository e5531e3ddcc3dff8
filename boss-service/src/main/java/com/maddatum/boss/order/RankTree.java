package com.maddatum.boss.order;

import java.util.Comparator;
import java.util.SplittableRandom;

/**
 * A sorted set that also answers "how many elements come before this one" in O(log n): a treap whose
 * nodes count their subtrees. The JDK's sorted sets can only count by walking, and the
 * {@link ReadyIndex} must tell a queued job its place without walking the queue.
 *
 * <p>Not thread-safe: its owner locks it. The comparator must be a total order (no two distinct
 * elements compare equal), as the claim order is.
 */
final class RankTree<T> {

    private static final class Node<T> {
        final T key;
        final int priority;
        int size = 1;
        Node<T> left;
        Node<T> right;

        Node(T key, int priority) {
            this.key = key;
            this.priority = priority;
        }
    }

    /** Two halves of a split: keys before the split point, and the rest. */
    private record Halves<T>(Node<T> before, Node<T> rest) {}

    private final Comparator<? super T> order;
    // Heap priorities only need to be unpredictable to the inputs, not secure.
    private final SplittableRandom random = new SplittableRandom();
    private Node<T> root;

    RankTree(Comparator<? super T> order) {
        this.order = order;
    }

    int size() {
        return size(root);
    }

    boolean isEmpty() {
        return root == null;
    }

    boolean contains(T key) {
        Node<T> node = root;
        while (node != null) {
            int c = order.compare(key, node.key);
            if (c == 0) {
                return true;
            }
            node = c < 0 ? node.left : node.right;
        }
        return false;
    }

    /** Adds {@code key}; false when it is already there. */
    boolean add(T key) {
        if (contains(key)) {
            return false;
        }
        Halves<T> split = split(root, key, false);
        root = merge(merge(split.before(), new Node<>(key, random.nextInt())), split.rest());
        return true;
    }

    /** Removes {@code key}; false when it was not there. */
    boolean remove(T key) {
        if (!contains(key)) {
            return false;
        }
        Halves<T> below = split(root, key, false);
        Halves<T> atAndAbove = split(below.rest(), key, true);
        root = merge(below.before(), atAndAbove.rest());
        return true;
    }

    /** How many elements come strictly before {@code key} (which need not be in the set). */
    int rank(T key) {
        int before = 0;
        Node<T> node = root;
        while (node != null) {
            if (order.compare(key, node.key) <= 0) {
                node = node.left;
            } else {
                before += size(node.left) + 1;
                node = node.right;
            }
        }
        return before;
    }

    /** Splits into the keys before {@code key} (through {@code key} itself when {@code inclusive}) and the rest. */
    private Halves<T> split(Node<T> node, T key, boolean inclusive) {
        if (node == null) {
            return new Halves<>(null, null);
        }
        int c = order.compare(node.key, key);
        if (c < 0 || (inclusive && c == 0)) {
            Halves<T> right = split(node.right, key, inclusive);
            node.right = right.before();
            return new Halves<>(update(node), right.rest());
        }
        Halves<T> left = split(node.left, key, inclusive);
        node.left = left.rest();
        return new Halves<>(left.before(), update(node));
    }

    /** Joins two treaps where every key of {@code a} comes before every key of {@code b}. */
    private Node<T> merge(Node<T> a, Node<T> b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        if (a.priority > b.priority) {
            a.right = merge(a.right, b);
            return update(a);
        }
        b.left = merge(a, b.left);
        return update(b);
    }

    private static <T> Node<T> update(Node<T> node) {
        node.size = 1 + size(node.left) + size(node.right);
        return node;
    }

    private static int size(Node<?> node) {
        return node == null ? 0 : node.size;
    }
}
