"""SQLAlchemy 2.0 ORM models of the demo blog (demo/schema.sql is the source of truth).

Relationships keep the default lazy="select" on purpose: touching post.author in a loop
issues one query per post, the N+1 pattern the dashboard is meant to reveal.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Timestamp = TIMESTAMP(timezone=True)


class Base(DeclarativeBase):
    """Declarative base of the demo models."""

    type_annotation_map = {datetime: Timestamp, int: BigInteger, str: Text}


post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class TimestampMixin:
    """created_at / updated_at columns filled by the server."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class User(TimestampMixin, Base):
    """A member: writes posts and comments, likes posts, follows other users."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)
    email: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str]
    bio: Mapped[str | None]
    last_login_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    posts: Mapped[list[Post]] = relationship(back_populates="author")
    comments: Mapped[list[Comment]] = relationship(back_populates="author")


class Category(Base):
    """One of ~50 sections a post is filed under."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str]
    description: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    posts: Mapped[list[Post]] = relationship(back_populates="category")


class Tag(Base):
    """A label; posts have several, through the post_tags table."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    posts: Mapped[list[Post]] = relationship(secondary=post_tags, back_populates="tags")


class Post(TimestampMixin, Base):
    """A blog post with denormalised like, comment and view counters."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    category_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("categories.id"), index=True)
    title: Mapped[str]
    body: Mapped[str]
    like_count: Mapped[int] = mapped_column(Integer, server_default="0")
    comment_count: Mapped[int] = mapped_column(Integer, server_default="0")
    view_count: Mapped[int] = mapped_column(server_default="0")
    deleted_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(back_populates="posts")
    category: Mapped[Category | None] = relationship(back_populates="posts")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, back_populates="posts")
    comments: Mapped[list[Comment]] = relationship(back_populates="post")


class Comment(TimestampMixin, Base):
    """A comment on a post; parent_id makes it a reply to another comment."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    body: Mapped[str]
    deleted_at: Mapped[datetime | None]

    post: Mapped[Post] = relationship(back_populates="comments")
    author: Mapped[User] = relationship(back_populates="comments")
    # Adjacency list: remote_side marks the parent end of the self-reference.
    parent: Mapped[Comment | None] = relationship(back_populates="replies", remote_side=[id])
    replies: Mapped[list[Comment]] = relationship(back_populates="parent")


class PostLike(Base):
    """A user liking a post (at most once)."""

    __tablename__ = "post_likes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    user: Mapped[User] = relationship()
    post: Mapped[Post] = relationship()


class UserFollow(Base):
    """follower follows followee."""

    __tablename__ = "user_follows"

    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    followee_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())

    follower: Mapped[User] = relationship(foreign_keys=[follower_id])
    followee: Mapped[User] = relationship(foreign_keys=[followee_id])
