"""factory_boy factories for people, records and relationships."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import factory
from django.contrib.auth.hashers import make_password

from carecoord.records.models import Allocation, Episode, Role, ServiceUser, Team, User, UserRole
from carers.models import Carer, CarerRelationship
from tests import clock

PASSWORD = "correct-horse-battery-staple"


@lru_cache(maxsize=1)
def _password_hash() -> str:
    # Argon2 is deliberately slow; hash the shared test password once per run.
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.LazyFunction(_password_hash)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs) -> None:
        if create and extracted:
            for role in extracted:
                UserRole.objects.get_or_create(user=self, role=role)
            self.__dict__.pop("roles", None)


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Community Mental Health Team {n}")


class ServiceUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceUser

    team = factory.SubFactory(TeamFactory)
    full_name = factory.Faker("name", locale="en_GB")
    date_of_birth = dt.date(1988, 5, 17)
    email = factory.Sequence(lambda n: f"service.user{n}@example.test")


class EpisodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Episode

    service_user = factory.SubFactory(ServiceUserFactory)
    started_on = factory.LazyFunction(lambda: clock.today() - dt.timedelta(weeks=4))
    planned_end_on = factory.LazyAttribute(lambda o: o.started_on + dt.timedelta(weeks=26))


class AllocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Allocation

    episode = factory.SubFactory(EpisodeFactory)
    coordinator = factory.SubFactory(UserFactory, roles=[Role.COORDINATOR])
    started_on = factory.LazyAttribute(lambda o: o.episode.started_on)


class CarerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Carer

    full_name = factory.Faker("name", locale="en_GB")
    email = factory.Sequence(lambda n: f"carer{n}@example.test")


class CarerRelationshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CarerRelationship

    carer = factory.SubFactory(CarerFactory)
    service_user = factory.SubFactory(ServiceUserFactory)
    relationship = "Mum"
