export { type BlobStore, BlobTooLargeError, type StoredBlob } from './blob-store';
export { artifactKey, uploadKey } from './keys';
export { createLocalDiskStore } from './local-disk';
export { IMAGE_TYPES, type ImageType, sniffImageType } from './sniff';
