"""QEMU guests: kernels, initramfs, the guest session."""
